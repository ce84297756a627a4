"""Every domain's tables, imported so Base.metadata knows them all (Alembic, tests)."""

from app.accounts.models import ApiToken, AuditEvent, LoginThrottle, User, UserRole, WebSession
from app.certificates.models import Certificate, CertificateEvent, SigningKey
from app.courses.models import Course, Lesson, Module
from app.db import Base
from app.exams.models import Answer, Attempt, AttemptEvent, Exam, ExtraTime, Question
from app.experts.models import Expert, ExpertRoleLink, ExpertSpeciality
from app.learning.models import (
    Enrolment,
    LedgerEntry,
    LessonProgress,
    OfflineAttendance,
    OfflineClass,
    RuleProfile,
    StudyClock,
)
from app.organisations.models import Enterprise, Region, RosterUpload, Worker
from app.oversight.assessment_models import AssessmentSnapshot, AssessmentTarget
from app.oversight.models import StudyHours
from app.practicals.models import Booking, Notification, PracticalSession, TestCentre

__all__ = ["Answer", "ApiToken", "AssessmentSnapshot", "AssessmentTarget", "Attempt",
           "AttemptEvent", "AuditEvent", "Base", "Booking",
           "Certificate", "CertificateEvent", "Course", "Enrolment", "Enterprise", "Exam",
           "Expert", "ExpertRoleLink", "ExpertSpeciality", "ExtraTime", "LedgerEntry", "Lesson",
           "LessonProgress", "LoginThrottle", "Module",
           "Notification", "OfflineAttendance", "OfflineClass", "PracticalSession", "Question",
           "Region", "RosterUpload", "RuleProfile", "SigningKey", "StudyClock", "StudyHours",
           "TestCentre",
           "User", "UserRole", "WebSession", "Worker"]
