"""Create or migrate the database (Alembic is the only schema source) and sync reference data."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from app.config import PROJECT_ROOT, get_settings
from app.db import make_engine, open_session


def _alembic_config() -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["configure_logging"] = False
    return config


def upgrade(url: str | None = None) -> None:
    """Migrate the database at `url` (default: the configured one) to the newest schema,
    then load the shipped reference data (regions)."""
    engine = make_engine(url or get_settings().database_url, pool_size=1)
    try:
        with engine.begin() as connection:
            config = _alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        sync_reference_data(engine=engine)
    finally:
        engine.dispose()


def downgrade_to_base(url: str | None = None) -> None:
    """Undo every migration (used by the migration tests)."""
    engine = make_engine(url or get_settings().database_url, pool_size=1)
    try:
        with engine.begin() as connection:
            config = _alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
    finally:
        engine.dispose()


def sync_reference_data(*, engine: Engine) -> None:
    """Regions and rule profiles shipped with the product, inserted or updated; idempotent."""
    from app.learning import profiles
    from app.organisations import service as organisations

    with open_session(write=True, engine=engine) as db:
        organisations.sync_regions(db=db)
        profiles.sync_profiles(db=db)
        db.commit()
