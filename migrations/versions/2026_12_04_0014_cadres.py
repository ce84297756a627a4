"""Supervisory cadres as learners: enterprises.kind ('agency' for a supervisory agency) and
courses.audience (the roles a course is offered to)

Columns are added in place (never a table rebuild): other tables reference enterprises.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 17:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('enterprises', sa.Column('kind', sa.String(length=16), nullable=False,
                                           server_default='enterprise'))
    op.add_column('courses', sa.Column('audience', sa.String(length=64), nullable=False,
                                       server_default='worker'))


def downgrade() -> None:
    # SQLite (3.35+) drops a plain column in place; batch mode would rebuild the table.
    op.drop_column('courses', 'audience')
    op.drop_column('enterprises', 'kind')
