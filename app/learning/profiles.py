"""Rule profiles: regulatory values as data, loaded from app/learning/data/*.yaml."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.learning.models import RuleProfile
from app.organisations import reference

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_PROFILE = "cn-mines"


@lru_cache
def shipped_profiles() -> dict[str, dict[str, Any]]:
    """The profiles shipped with the product, by code."""
    result = {}
    for path in sorted(DATA_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        result[data["code"]] = data
    return result


def sync_profiles(*, db: Session) -> None:
    """Insert shipped profiles that are missing (admins' edits to existing ones are kept);
    make the default active when none is."""
    existing = {p.code: p for p in db.scalars(select(RuleProfile))}
    for code, data in shipped_profiles().items():
        if code not in existing:
            profile = RuleProfile(code=code, name=data["name"], data=data, is_active=False)
            db.add(profile)
            existing[code] = profile
    if not any(p.is_active for p in existing.values()):
        existing[DEFAULT_PROFILE].is_active = True
    db.flush()


def active_profile(*, db: Session) -> RuleProfile:
    """The profile in force."""
    profile = db.scalar(select(RuleProfile).where(RuleProfile.is_active.is_(True)))
    if profile is None:  # a database migrated but never synced (should not happen)
        sync_profiles(db=db)
        profile = db.scalar(select(RuleProfile).where(RuleProfile.is_active.is_(True)))
    assert profile is not None
    return profile


@dataclass(frozen=True)
class StudyRules:
    max_seconds_per_beat: float
    attention_minutes: float
    video_watched_ratio: float


_data_cache: dict[int, tuple[float, RuleProfile]] = {}
RULES_CACHE_SECONDS = 30.0


def cached_profile(*, db: Session) -> RuleProfile:
    """The active profile, cached for a few seconds per process: every heartbeat and every
    worker's home page reads it, and an admin's change reaches every process within
    RULES_CACHE_SECONDS. The object is detached: read it, never change it."""
    key = id(db.get_bind().engine)
    cached = _data_cache.get(key)
    now = time.monotonic()
    if cached and now - cached[0] < RULES_CACHE_SECONDS:
        return cached[1]
    profile = active_profile(db=db)
    db.expunge(profile)
    _data_cache[key] = (now, profile)
    return profile


def study_rules(*, db: Session) -> StudyRules:
    """The study rules of the active profile (cached with it)."""
    profile = cached_profile(db=db)
    return StudyRules(study_rule(profile, "max_seconds_per_beat"),
                      study_rule(profile, "attention_minutes"),
                      study_rule(profile, "video_watched_ratio"))


def theory_pass_valid_since(*, db: Session, now: datetime | None = None) -> datetime:
    """The oldest theory pass that still counts (12 months by default: Order 30)."""
    months = int(cached_profile(db=db).data.get("special_operations", {}).get("exam", {})
                 .get("theory_pass_valid_months", 12))
    now = now or datetime.now(UTC)
    return now - timedelta(days=round(months * 30.44))


def list_profiles(*, db: Session) -> list[RuleProfile]:
    """Every loaded profile."""
    return list(db.scalars(select(RuleProfile).order_by(RuleProfile.code)))


def class_hour_seconds(profile: RuleProfile, mode: str) -> int:
    """How many credited seconds make one class hour in `mode` (online or offline)."""
    return int(profile.data["class_hour_minutes"][mode]) * 60


def study_rule(profile: RuleProfile, name: str) -> float:
    """A value of the profile's `study` block."""
    return float(profile.data["study"][name])


def required_hours(profile: RuleProfile, job_category: str) -> dict[str, float]:
    """Initial and annual class hours required for a job category."""
    hours = profile.data.get("hours", {}).get(job_category)
    if hours is None and job_category in reference.special_operation_codes():
        special = profile.data["special_operations"]
        return {"initial": float(special["initial_hours"]),
                "annual": float(special["annual_hours"])}
    if hours is None:
        return {"initial": 0.0, "annual": 0.0}
    return {"initial": float(hours["initial"]), "annual": float(hours["annual"])}
