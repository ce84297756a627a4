"""Experts: the talent pool of mine-safety experts and supervisory cadres

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-04 15:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('experts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('full_name', sa.String(length=100), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('qualifications', sa.Text(), nullable=False),
    sa.Column('available', sa.Boolean(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_experts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_experts')),
    sa.UniqueConstraint('user_id', name=op.f('uq_experts_user_id'))
    )
    with op.batch_alter_table('experts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_experts_full_name'), ['full_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_experts_region_code'), ['region_code'], unique=False)

    op.create_table('expert_roles',
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['expert_id'], ['experts.id'], name=op.f('fk_expert_roles_expert_id_experts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('expert_id', 'role', name=op.f('pk_expert_roles'))
    )
    with op.batch_alter_table('expert_roles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expert_roles_role'), ['role'], unique=False)

    op.create_table('expert_specialities',
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('speciality', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['expert_id'], ['experts.id'], name=op.f('fk_expert_specialities_expert_id_experts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('expert_id', 'speciality', name=op.f('pk_expert_specialities'))
    )
    with op.batch_alter_table('expert_specialities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expert_specialities_speciality'), ['speciality'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('expert_specialities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expert_specialities_speciality'))
    op.drop_table('expert_specialities')
    with op.batch_alter_table('expert_roles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expert_roles_role'))
    op.drop_table('expert_roles')
    with op.batch_alter_table('experts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_experts_region_code'))
        batch_op.drop_index(batch_op.f('ix_experts_full_name'))
    op.drop_table('experts')
