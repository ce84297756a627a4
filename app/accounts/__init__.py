"""Users, roles, login, sessions, API tokens and the audit log."""
