"""Settings: one object, read from PITHEAD_* environment variables, validated at start."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET = "dev-insecure-secret-change-me"  # noqa: S105 - refused in production


class Settings(BaseSettings):
    """Everything configurable about a deployment."""

    model_config = SettingsConfigDict(env_prefix="PITHEAD_", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'pithead.db'}"
    secret_key: str = DEFAULT_SECRET
    media_dir: Path = PROJECT_ROOT / "var" / "media"
    session_hours: int = 12
    token_minutes: int = 60
    db_pool_size: int = 10
    # The public address in QR codes, printed links and credentials. Required in production;
    # unset in development, the request's own origin is used (app/certificates/addresses.py).
    base_url: str = ""
    default_locale: str = "en"
    # Public certificate look-ups allowed per minute from one address (per app process).
    verify_rate_per_minute: int = 120
    # How long before a practical session starts its examiner may mark attendance (results
    # only from the start on).
    attendance_opens_minutes: int = Field(default=60, ge=0, le=24 * 60)

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> "Settings":
        if self.env == "production":
            if self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32:
                raise ValueError(
                    "PITHEAD_SECRET_KEY must be set to a random value of at least 32 "
                    "characters when PITHEAD_ENV=production"
                )
            if not self.base_url.startswith(("https://", "http://")):
                raise ValueError(
                    "PITHEAD_BASE_URL must be set to the public address of the server (such as "
                    "https://pithead.example.cn) when PITHEAD_ENV=production"
                )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        return self.env == "production"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests clear the cache)."""
    return Settings()
