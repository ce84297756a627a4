"""Practicals: test centres, sessions, bookings, notifications

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 19:17:59.532727
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('test_centres',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('kinds', sa.JSON(), nullable=False),
    sa.Column('stations', sa.JSON(), nullable=False),
    sa.Column('contact', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_test_centres'))
    )
    with op.batch_alter_table('test_centres', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_test_centres_region_code'), ['region_code'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('link', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_user_id'), ['user_id'], unique=False)

    op.create_table('practical_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('test_centre_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('examiner_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('series_id', sa.String(length=32), nullable=True),
    sa.Column('booked_count', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_practical_sessions_course_id_courses')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_practical_sessions_created_by_users')),
    sa.ForeignKeyConstraint(['examiner_id'], ['users.id'], name=op.f('fk_practical_sessions_examiner_id_users')),
    sa.ForeignKeyConstraint(['test_centre_id'], ['test_centres.id'], name=op.f('fk_practical_sessions_test_centre_id_test_centres')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practical_sessions'))
    )
    with op.batch_alter_table('practical_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_practical_sessions_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_practical_sessions_examiner_id'), ['examiner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_practical_sessions_series_id'), ['series_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_practical_sessions_starts_at'), ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_practical_sessions_test_centre_id'), ['test_centre_id'], unique=False)

    op.create_table('bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('booked_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('promoted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attendance', sa.String(length=16), nullable=True),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('result_by', sa.Integer(), nullable=True),
    sa.Column('result_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['booked_by'], ['users.id'], name=op.f('fk_bookings_booked_by_users')),
    sa.ForeignKeyConstraint(['result_by'], ['users.id'], name=op.f('fk_bookings_result_by_users')),
    sa.ForeignKeyConstraint(['session_id'], ['practical_sessions.id'], name=op.f('fk_bookings_session_id_practical_sessions')),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name=op.f('fk_bookings_worker_id_workers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings'))
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bookings_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_worker_id'), ['worker_id'], unique=False)
        batch_op.create_index('uq_bookings_active', ['session_id', 'worker_id'], unique=True, sqlite_where=sa.text("status IN ('booked', 'waitlisted')"), postgresql_where=sa.text("status IN ('booked', 'waitlisted')"))




def downgrade() -> None:

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index('uq_bookings_active', sqlite_where=sa.text("status IN ('booked', 'waitlisted')"), postgresql_where=sa.text("status IN ('booked', 'waitlisted')"))
        batch_op.drop_index(batch_op.f('ix_bookings_worker_id'))
        batch_op.drop_index(batch_op.f('ix_bookings_status'))
        batch_op.drop_index(batch_op.f('ix_bookings_session_id'))

    op.drop_table('bookings')
    with op.batch_alter_table('practical_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_practical_sessions_test_centre_id'))
        batch_op.drop_index(batch_op.f('ix_practical_sessions_starts_at'))
        batch_op.drop_index(batch_op.f('ix_practical_sessions_series_id'))
        batch_op.drop_index(batch_op.f('ix_practical_sessions_examiner_id'))
        batch_op.drop_index(batch_op.f('ix_practical_sessions_course_id'))

    op.drop_table('practical_sessions')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_user_id'))
        batch_op.drop_index(batch_op.f('ix_notifications_created_at'))

    op.drop_table('notifications')
    with op.batch_alter_table('test_centres', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_test_centres_region_code'))

    op.drop_table('test_centres')

