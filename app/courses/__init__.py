"""Courses, modules, lessons, the course-package importer and authoring."""
