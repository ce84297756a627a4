"""Every domain's tables, imported so Base.metadata knows them all (Alembic, tests)."""

from app.accounts.models import ApiToken, AuditEvent, LoginThrottle, User, UserRole, WebSession
from app.db import Base
from app.organisations.models import Enterprise, Region, RosterUpload, Worker

__all__ = ["ApiToken", "AuditEvent", "Base", "Enterprise", "LoginThrottle", "Region",
           "RosterUpload", "User", "UserRole", "WebSession", "Worker"]
