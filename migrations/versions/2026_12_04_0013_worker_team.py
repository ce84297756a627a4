"""Worker teams: workers.team (the team or crew within the enterprise, e.g. 综采一队), optional

The column is added in place (never a table rebuild on SQLite: other tables reference workers),
with an index on (enterprise_id, team) for the team filters and the list of an enterprise's teams.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 16:45:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('workers', sa.Column('team', sa.String(length=60), nullable=True))
    op.create_index('ix_workers_enterprise_id_team', 'workers', ['enterprise_id', 'team'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_workers_enterprise_id_team', table_name='workers')
    # SQLite (3.35+) drops a plain column in place; batch mode would rebuild the table.
    op.drop_column('workers', 'team')
