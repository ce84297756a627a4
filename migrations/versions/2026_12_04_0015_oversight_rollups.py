"""Oversight rollups: study_hours_enterprise, the monthly study seconds of each enterprise's
counted workers, kept by triggers on study_hours and workers (never stale)

The dashboard's monthly trend summed study_hours over every worker of a region (675,000 rows
for a year at 200,000 workers, 0.3-0.5 s); this table holds at most 12 rows per enterprise and
year. A worker's seconds of a year count only when the worker was hired by 31 December of
that year (the compliance rule: docs/oversight.md), so a change of a worker's enterprise or
hiring date moves its rows.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 17:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite: add (sign '') or take away (sign '-') one study_hours row ({row}) of a worker.
# (Table names and SQL here are constants.)
SQLITE_ADD = """
    INSERT INTO study_hours_enterprise (enterprise_id, year, month, online_seconds,
                                        offline_seconds)
    SELECT w.enterprise_id, {row}.year, {row}.month, {sign}{row}.online_seconds,
           {sign}{row}.offline_seconds
    FROM workers AS w
    WHERE w.id = {row}.worker_id AND {row}.month > 0
      AND w.hired_on <= printf('%04d-12-31', {row}.year)
    ON CONFLICT (enterprise_id, year, month) DO UPDATE SET
        online_seconds = online_seconds + excluded.online_seconds,
        offline_seconds = offline_seconds + excluded.offline_seconds;
"""
# SQLite: add or take away every month row of one worker ({row}: OLD or NEW of workers).
SQLITE_MOVE = """
    INSERT INTO study_hours_enterprise (enterprise_id, year, month, online_seconds,
                                        offline_seconds)
    SELECT {row}.enterprise_id, h.year, h.month, {sign}h.online_seconds, {sign}h.offline_seconds
    FROM study_hours AS h
    WHERE h.worker_id = {row}.id AND h.month > 0
      AND {row}.hired_on <= printf('%04d-12-31', h.year)
    ON CONFLICT (enterprise_id, year, month) DO UPDATE SET
        online_seconds = online_seconds + excluded.online_seconds,
        offline_seconds = offline_seconds + excluded.offline_seconds;
"""

PG_UPSERT = """
        ON CONFLICT (enterprise_id, year, month) DO UPDATE SET
            online_seconds = study_hours_enterprise.online_seconds + EXCLUDED.online_seconds,
            offline_seconds = study_hours_enterprise.offline_seconds + EXCLUDED.offline_seconds;"""


def _pg_hours_function() -> str:
    def add(row: str, online: str, offline: str) -> str:
        return f"""
        INSERT INTO study_hours_enterprise (enterprise_id, year, month, online_seconds,
                                            offline_seconds)
        SELECT w.enterprise_id, {row}.year, {row}.month, {online}, {offline}
        FROM workers AS w
        WHERE w.id = {row}.worker_id AND w.hired_on <= make_date({row}.year, 12, 31)
        {PG_UPSERT}"""  # noqa: S608 - constants only
    return f"""
CREATE FUNCTION study_hours_enterprise_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.worker_id = NEW.worker_id AND OLD.year = NEW.year
            AND OLD.month = NEW.month THEN
        -- a heartbeat: the same row grows; one upsert of the difference
        IF NEW.month > 0 THEN {add("NEW", "NEW.online_seconds - OLD.online_seconds",
                                   "NEW.offline_seconds - OLD.offline_seconds")}
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.month > 0 THEN {add(
        "OLD", "-OLD.online_seconds", "-OLD.offline_seconds")}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.month > 0 THEN {add(
        "NEW", "NEW.online_seconds", "NEW.offline_seconds")}
    END IF;
    RETURN NULL;
END $$;
"""


def _pg_workers_function() -> str:
    def move(row: str, sign: str) -> str:
        return f"""
        INSERT INTO study_hours_enterprise (enterprise_id, year, month, online_seconds,
                                            offline_seconds)
        SELECT {row}.enterprise_id, h.year, h.month, {sign}h.online_seconds,
               {sign}h.offline_seconds
        FROM study_hours AS h
        WHERE h.worker_id = {row}.id AND h.month > 0
          AND {row}.hired_on <= make_date(h.year, 12, 31)
        {PG_UPSERT}"""  # noqa: S608 - constants only
    return f"""
CREATE FUNCTION study_hours_enterprise_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.enterprise_id = NEW.enterprise_id
            AND OLD.hired_on = NEW.hired_on THEN
        RETURN NULL;
    END IF;
    {move("OLD", "-")}
    IF TG_OP = 'UPDATE' THEN {move("NEW", "")}
        RETURN NULL;
    END IF;
    RETURN OLD;
END $$;
"""


def upgrade() -> None:
    op.create_table('study_hours_enterprise',
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('online_seconds', sa.BigInteger(), nullable=False),
    sa.Column('offline_seconds', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_study_hours_enterprise_enterprise_id_enterprises'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('enterprise_id', 'year', 'month', name=op.f('pk_study_hours_enterprise'))
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("CREATE TRIGGER study_hours_enterprise_on_insert AFTER INSERT ON study_hours "
                   "BEGIN" + SQLITE_ADD.format(row="NEW", sign="") + "END")
        op.execute("CREATE TRIGGER study_hours_enterprise_on_update AFTER UPDATE OF worker_id, "
                   "year, month, online_seconds, offline_seconds ON study_hours BEGIN"
                   + SQLITE_ADD.format(row="OLD", sign="-")
                   + SQLITE_ADD.format(row="NEW", sign="") + "END")
        op.execute("CREATE TRIGGER study_hours_enterprise_on_delete AFTER DELETE ON study_hours "
                   "BEGIN" + SQLITE_ADD.format(row="OLD", sign="-") + "END")
        op.execute("CREATE TRIGGER study_hours_enterprise_worker_moved AFTER UPDATE OF "
                   "enterprise_id, hired_on ON workers WHEN OLD.enterprise_id != "
                   "NEW.enterprise_id OR OLD.hired_on != NEW.hired_on BEGIN"
                   + SQLITE_MOVE.format(row="OLD", sign="-")
                   + SQLITE_MOVE.format(row="NEW", sign="") + "END")
        op.execute("CREATE TRIGGER study_hours_enterprise_worker_deleted BEFORE DELETE ON "
                   "workers BEGIN" + SQLITE_MOVE.format(row="OLD", sign="-") + "END")
    else:
        op.execute(_pg_hours_function())
        op.execute("CREATE TRIGGER study_hours_enterprise_sync AFTER INSERT OR UPDATE OR DELETE "
                   "ON study_hours FOR EACH ROW EXECUTE FUNCTION study_hours_enterprise_apply()")
        op.execute(_pg_workers_function())
        op.execute("CREATE TRIGGER study_hours_enterprise_worker_moved AFTER UPDATE OF "
                   "enterprise_id, hired_on ON workers FOR EACH ROW "
                   "EXECUTE FUNCTION study_hours_enterprise_move()")
        op.execute("CREATE TRIGGER study_hours_enterprise_worker_deleted BEFORE DELETE ON "
                   "workers FOR EACH ROW EXECUTE FUNCTION study_hours_enterprise_move()")
    # What study_hours already holds.
    year_end = "printf('%04d-12-31', h.year)" if sqlite else "make_date(h.year, 12, 31)"
    op.execute(
        "INSERT INTO study_hours_enterprise (enterprise_id, year, month, online_seconds, "  # noqa: S608 - constants only
        "offline_seconds) SELECT w.enterprise_id, h.year, h.month, SUM(h.online_seconds), "
        "SUM(h.offline_seconds) FROM study_hours AS h JOIN workers AS w ON w.id = h.worker_id "
        f"WHERE h.month > 0 AND w.hired_on <= {year_end} "
        "GROUP BY w.enterprise_id, h.year, h.month")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("on_insert", "on_update", "on_delete", "worker_moved", "worker_deleted"):
            op.execute(f"DROP TRIGGER IF EXISTS study_hours_enterprise_{name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS study_hours_enterprise_sync ON study_hours")
        op.execute("DROP TRIGGER IF EXISTS study_hours_enterprise_worker_moved ON workers")
        op.execute("DROP TRIGGER IF EXISTS study_hours_enterprise_worker_deleted ON workers")
        op.execute("DROP FUNCTION IF EXISTS study_hours_enterprise_apply()")
        op.execute("DROP FUNCTION IF EXISTS study_hours_enterprise_move()")
    op.drop_table('study_hours_enterprise')
