"""Certificates: the status list, with random, never reused entries

The status list (one row, id 1) records how many entries may be allocated; it grows in place.
Certificates keep their status_index (still unique), so existing ones stay where they are.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 15:00:00.000000
"""
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIRST_LIST_SIZE = 131_072  # W3C Bitstring Status List minimum, for herd privacy


def upgrade() -> None:
    status_lists = op.create_table(
        'status_lists',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('status_size', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_status_lists')),
    )
    highest = op.get_bind().scalar(sa.text('SELECT MAX(status_index) FROM certificates'))
    op.bulk_insert(status_lists, [{
        'id': 1, 'size': max(FIRST_LIST_SIZE, (highest or 0) + 1), 'status_size': 2,
        'created_at': datetime.now(UTC)}])


def downgrade() -> None:
    op.drop_table('status_lists')
