"""Training bases, practical test sessions, bookings with waitlists, examiner results,
in-app notifications."""
