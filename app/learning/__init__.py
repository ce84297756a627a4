"""Enrolments, lesson progress, credited study time, the study-hours ledger and rule profiles."""
