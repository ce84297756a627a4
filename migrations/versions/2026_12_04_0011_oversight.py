"""Oversight: study_hours kept by triggers on study_ledger; indexes for compliance queries

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 16:05:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# One row per worker, year and month, and one with month 0 for the whole year: every change of
# a ledger row moves both by the difference, in the same transaction.
SQLITE_ADD = """
    INSERT INTO study_hours (worker_id, year, month, online_seconds, offline_seconds)
    SELECT {row}.worker_id, CAST(strftime('%Y', {row}.day) AS INTEGER), m.month,
           CASE WHEN {row}.mode = 'online' THEN {sign}{row}.seconds ELSE 0 END,
           CASE WHEN {row}.mode = 'offline' THEN {sign}{row}.seconds ELSE 0 END
    FROM (SELECT 0 AS month UNION ALL SELECT CAST(strftime('%m', {row}.day) AS INTEGER)) AS m
    WHERE true
    ON CONFLICT (worker_id, year, month) DO UPDATE SET
        online_seconds = online_seconds + excluded.online_seconds,
        offline_seconds = offline_seconds + excluded.offline_seconds;
"""

def _pg_function() -> str:
    add = """
        INSERT INTO study_hours (worker_id, year, month, online_seconds, offline_seconds)
        SELECT {row}.worker_id, EXTRACT(YEAR FROM {row}.day)::int, m,
               CASE WHEN {row}.mode = 'online' THEN {sign} * {row}.seconds ELSE 0 END,
               CASE WHEN {row}.mode = 'offline' THEN {sign} * {row}.seconds ELSE 0 END
        FROM unnest(ARRAY[0, EXTRACT(MONTH FROM {row}.day)::int]) AS m
        ON CONFLICT (worker_id, year, month) DO UPDATE SET
            online_seconds = study_hours.online_seconds + EXCLUDED.online_seconds,
            offline_seconds = study_hours.offline_seconds + EXCLUDED.offline_seconds;"""
    return f"""
CREATE FUNCTION study_hours_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN {add.format(row="OLD", sign="-1")}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN {add.format(row="NEW", sign="1")}
    END IF;
    RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.create_table('study_hours',
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('online_seconds', sa.BigInteger(), nullable=False),
    sa.Column('offline_seconds', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name=op.f('fk_study_hours_worker_id_workers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('worker_id', 'year', 'month', name=op.f('pk_study_hours'))
    )
    op.create_index('ix_study_hours_year_month', 'study_hours',
                    ['year', 'month', 'worker_id', 'online_seconds', 'offline_seconds'],
                    unique=False)
    op.create_index('ix_workers_hired_on', 'workers', ['hired_on'], unique=False)
    op.create_index('ix_enrolments_open_deadline', 'enrolments', ['deadline', 'worker_id'],
                    unique=False,
                    sqlite_where=sa.text("status IN ('active', 'retraining')"),
                    postgresql_where=sa.text("status IN ('active', 'retraining')"))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE TRIGGER study_hours_on_insert AFTER INSERT ON study_ledger BEGIN"
                   + SQLITE_ADD.format(row="NEW", sign="") + "END")
        op.execute("CREATE TRIGGER study_hours_on_update AFTER UPDATE OF worker_id, day, mode, "
                   "seconds ON study_ledger BEGIN" + SQLITE_ADD.format(row="OLD", sign="-")
                   + SQLITE_ADD.format(row="NEW", sign="") + "END")
        op.execute("CREATE TRIGGER study_hours_on_delete AFTER DELETE ON study_ledger BEGIN"
                   + SQLITE_ADD.format(row="OLD", sign="-") + "END")
    else:
        op.execute(_pg_function())
        op.execute("CREATE TRIGGER study_hours_sync AFTER INSERT OR UPDATE OR DELETE ON "
                   "study_ledger FOR EACH ROW EXECUTE FUNCTION study_hours_apply()")
    # What the ledger already holds. (Table names and SQL here are constants.)
    for month in ("0", "month"):
        if op.get_bind().dialect.name == "sqlite":
            month_sql = "0" if month == "0" else "CAST(strftime('%m', day) AS INTEGER)"
            year_sql = "CAST(strftime('%Y', day) AS INTEGER)"
        else:
            month_sql = "0" if month == "0" else "EXTRACT(MONTH FROM day)::int"
            year_sql = "EXTRACT(YEAR FROM day)::int"
        backfill = (
            "INSERT INTO study_hours (worker_id, year, month, online_seconds, offline_seconds) "  # noqa: S608 - constants only
            f"SELECT worker_id, {year_sql}, {month_sql}, "
            "SUM(CASE WHEN mode = 'online' THEN seconds ELSE 0 END), "
            "SUM(CASE WHEN mode = 'offline' THEN seconds ELSE 0 END) "
            f"FROM study_ledger GROUP BY worker_id, {year_sql}"
            + ("" if month == "0" else f", {month_sql}"))
        op.execute(backfill)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS study_hours_on_{name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS study_hours_sync ON study_ledger")
        op.execute("DROP FUNCTION IF EXISTS study_hours_apply()")
    op.drop_index('ix_enrolments_open_deadline', table_name='enrolments')
    op.drop_index('ix_workers_hired_on', table_name='workers')
    op.drop_index('ix_study_hours_year_month', table_name='study_hours')
    op.drop_table('study_hours')
