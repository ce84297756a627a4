"""Regions, enterprises, worker profiles and roster import."""
