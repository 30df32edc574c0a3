"""an enrolment's status and end, who held it when, and breaks in learning

Revision ID: 0009_enrolment_history
Revises: 0008_outbox
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa

import portfolio.core.db


# revision identifiers, used by Alembic.
revision = '0009_enrolment_history'
down_revision = '0008_outbox'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=20), nullable=False,
                                      server_default='open'))
        batch_op.add_column(sa.Column('ended_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('ended_reason', sa.Text(), nullable=False,
                                      server_default=''))
    # Nothing could end an enrolment before this revision, but a row ended by hand must still
    # satisfy "ended exactly when not open": it reads as withdrawn, for no recorded reason.
    op.execute(sa.text("UPDATE enrolments SET status = 'withdrawn', "
                       "ended_reason = 'ended before withdrawals were recorded' "
                       "WHERE ended_at IS NOT NULL"))
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.create_check_constraint(
            'known_status', "status IN ('open', 'withdrawn', 'completed')")
        batch_op.create_check_constraint(
            'ended_when_closed', "(status = 'open') = (ended_at IS NULL)")

    op.create_table('enrolment_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('from_at', portfolio.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('to_at', portfolio.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('assigned_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("role IN ('assessor', 'iqa')", name=op.f('ck_enrolment_assignments_known_role')),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_enrolment_assignments_assigned_by_id_users')),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_enrolment_assignments_enrolment_id_enrolments')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_enrolment_assignments_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolment_assignments'))
    )
    with op.batch_alter_table('enrolment_assignments', schema=None) as batch_op:
        batch_op.create_index('ix_enrolment_assignments_enrolment_role',
                              ['enrolment_id', 'role'], unique=False)
    # Today's holders have held each enrolment since it was made (the earlier moves, if any,
    # were never recorded), until it ended.
    for role in ('assessor', 'iqa'):
        op.execute(sa.text(f"""
            INSERT INTO enrolment_assignments (enrolment_id, role, user_id, from_at, to_at)
            SELECT id, :role, {role}_id, created_at, ended_at FROM enrolments ORDER BY id
        """).bindparams(role=role))

    op.create_table('enrolment_breaks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', portfolio.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_on IS NULL OR ends_on >= starts_on', name=op.f('ck_enrolment_breaks_dates_in_order')),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_enrolment_breaks_enrolment_id_enrolments')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_enrolment_breaks_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolment_breaks'))
    )
    with op.batch_alter_table('enrolment_breaks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrolment_breaks_enrolment_id'), ['enrolment_id'],
                              unique=False)


def downgrade():
    # The history of holders, the breaks and the withdrawal reasons have nowhere to go below
    # this revision and are lost; ended_at stays, so ended enrolments stay ended.
    with op.batch_alter_table('enrolment_breaks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrolment_breaks_enrolment_id'))
    op.drop_table('enrolment_breaks')
    with op.batch_alter_table('enrolment_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_enrolment_assignments_enrolment_role')
    op.drop_table('enrolment_assignments')
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_enrolments_ended_when_closed'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_enrolments_known_status'), type_='check')
        batch_op.drop_column('ended_reason')
        batch_op.drop_column('ended_on')
        batch_op.drop_column('status')
