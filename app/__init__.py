"""Pithead: online safety training, examination and certification for mines."""
