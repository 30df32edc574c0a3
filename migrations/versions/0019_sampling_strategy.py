"""a centre's sampling strategy, append-only revisions

Revision ID: 0019_sampling_strategy
Revises: 0018_staff_rules
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa

import portfolio.core.db


# revision identifiers, used by Alembic.
revision = '0019_sampling_strategy'
down_revision = '0018_staff_rules'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sampling_strategies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('cycle_months', sa.Integer(), nullable=False),
    sa.Column('cycle_start_month', sa.Integer(), nullable=False),
    sa.Column('cycle_start_day', sa.Integer(), nullable=False),
    sa.Column('new_assessor_months', sa.Integer(), nullable=False),
    sa.Column('working_towards_percent', sa.Integer(), nullable=False),
    sa.Column('new_percent', sa.Integer(), nullable=False),
    sa.Column('experienced_percent', sa.Integer(), nullable=False),
    sa.Column('interim_percent', sa.Integer(), nullable=False),
    sa.Column('every_unit_of_new_qualification', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('made_by_id', sa.Integer(), nullable=False),
    sa.Column('made_at', portfolio.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('cycle_months BETWEEN 1 AND 36', name=op.f('ck_sampling_strategies_cycle_length')),
    sa.CheckConstraint('cycle_start_month BETWEEN 1 AND 12 AND cycle_start_day BETWEEN 1 AND 28', name=op.f('ck_sampling_strategies_cycle_start')),
    sa.CheckConstraint('working_towards_percent BETWEEN 0 AND 100 AND new_percent BETWEEN 0 AND 100 AND experienced_percent BETWEEN 0 AND 100 AND interim_percent BETWEEN 0 AND 100', name=op.f('ck_sampling_strategies_percentages')),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_sampling_strategies_centre_id_centres')),
    sa.ForeignKeyConstraint(['made_by_id'], ['users.id'], name=op.f('fk_sampling_strategies_made_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sampling_strategies'))
    )
    with op.batch_alter_table('sampling_strategies', schema=None) as batch_op:
        batch_op.create_index('ix_sampling_strategies_centre_id_id', ['centre_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('sampling_strategies', schema=None) as batch_op:
        batch_op.drop_index('ix_sampling_strategies_centre_id_id')

    op.drop_table('sampling_strategies')
