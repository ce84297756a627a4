"""Certificates: automatic issue, lifecycle and review, verification, signed credentials, PDF."""
