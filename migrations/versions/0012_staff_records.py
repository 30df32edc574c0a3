"""staff records: an assessor's or IQA's standing per qualification, one append-only row per change

Revision ID: 0012_staff_records
Revises: 0011_password_links
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa

import portfolio.core.db


# revision identifiers, used by Alembic.
revision = '0012_staff_records'
down_revision = '0011_password_links'
branch_labels = None
depends_on = None


def upgrade():
    # No standing was recorded before this revision: every assessor and IQA starts with none.
    op.create_table('staff_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('qualification_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('held_qualification', sa.String(length=200), server_default='', nullable=False),
    sa.Column('qualified_on', sa.Date(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', portfolio.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('assessor', 'iqa')", name=op.f('ck_staff_records_known_role')),
    sa.CheckConstraint("status IN ('qualified', 'working_towards')", name=op.f('ck_staff_records_known_status')),
    sa.CheckConstraint("status = 'qualified' OR (held_qualification = '' AND qualified_on IS NULL)", name=op.f('ck_staff_records_held_only_when_qualified')),
    sa.ForeignKeyConstraint(['qualification_id'], ['qualifications.id'], name=op.f('fk_staff_records_qualification_id_qualifications')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_staff_records_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_staff_records_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_records'))
    )
    with op.batch_alter_table('staff_records', schema=None) as batch_op:
        batch_op.create_index('ix_staff_records_user_qualification_role',
                              ['user_id', 'qualification_id', 'role'], unique=False)


def downgrade():
    with op.batch_alter_table('staff_records', schema=None) as batch_op:
        batch_op.drop_index('ix_staff_records_user_qualification_role')
    op.drop_table('staff_records')
