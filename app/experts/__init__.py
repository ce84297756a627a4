"""The expert and supervisory-cadre talent pool."""
