"""Assessment: indicator targets per region and year, frozen snapshots (append-only)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 16:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('assessment_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('indicator_code', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_assessment_targets_updated_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_targets')),
    sa.UniqueConstraint('region_code', 'year', 'indicator_code', name=op.f('uq_assessment_targets_region_code_year_indicator_code'))
    )
    with op.batch_alter_table('assessment_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_targets_region_code'), ['region_code'], unique=False)

    op.create_table('assessment_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('label', sa.String(length=60), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('indicators', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_assessment_snapshots_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_snapshots')),
    sa.UniqueConstraint('region_code', 'label', name=op.f('uq_assessment_snapshots_region_code_label'))
    )
    with op.batch_alter_table('assessment_snapshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_snapshots_region_code'), ['region_code'], unique=False)

    _create_snapshot_guards()


def _create_snapshot_guards() -> None:
    """A frozen snapshot is never changed: the database refuses UPDATE, DELETE (and TRUNCATE),
    as it does for the audit log (migration 0001)."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER assessment_snapshots_no_{verb.lower()}
                BEFORE {verb} ON assessment_snapshots
                BEGIN SELECT RAISE(ABORT, 'assessment_snapshots is append-only'); END
            """)
        return
    op.execute("""
        CREATE FUNCTION assessment_snapshots_refuse_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'assessment_snapshots is append-only'; END $$
    """)
    op.execute("""CREATE TRIGGER assessment_snapshots_no_change
                  BEFORE UPDATE OR DELETE ON assessment_snapshots
                  FOR EACH ROW EXECUTE FUNCTION assessment_snapshots_refuse_change()""")
    op.execute("""CREATE TRIGGER assessment_snapshots_no_truncate
                  BEFORE TRUNCATE ON assessment_snapshots
                  FOR EACH STATEMENT EXECUTE FUNCTION assessment_snapshots_refuse_change()""")


def _drop_snapshot_guards() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS assessment_snapshots_no_update")
        op.execute("DROP TRIGGER IF EXISTS assessment_snapshots_no_delete")
        return
    op.execute("DROP TRIGGER IF EXISTS assessment_snapshots_no_truncate ON assessment_snapshots")
    op.execute("DROP TRIGGER IF EXISTS assessment_snapshots_no_change ON assessment_snapshots")
    op.execute("DROP FUNCTION IF EXISTS assessment_snapshots_refuse_change()")


def downgrade() -> None:
    _drop_snapshot_guards()
    with op.batch_alter_table('assessment_snapshots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_snapshots_region_code'))
    op.drop_table('assessment_snapshots')
    with op.batch_alter_table('assessment_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_targets_region_code'))
    op.drop_table('assessment_targets')
