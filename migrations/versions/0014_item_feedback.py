"""assessors' feedback on a whole evidence item

Revision ID: 0014_item_feedback
Revises: 0013_notifications
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa

import portfolio.core.db


# revision identifiers, used by Alembic.
revision = '0014_item_feedback'
down_revision = '0013_notifications'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('item_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('assessor_id', sa.Integer(), nullable=False),
    sa.Column('given_at', portfolio.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['assessor_id'], ['users.id'], name=op.f('fk_item_feedback_assessor_id_users')),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_item_feedback_enrolment_id_enrolments')),
    sa.ForeignKeyConstraint(['item_id'], ['evidence_items.id'], name=op.f('fk_item_feedback_item_id_evidence_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_feedback'))
    )
    with op.batch_alter_table('item_feedback', schema=None) as batch_op:
        batch_op.create_index('ix_item_feedback_item_id_id', ['item_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_item_feedback_enrolment_id'), ['enrolment_id'], unique=False)


def downgrade():
    op.drop_table('item_feedback')
