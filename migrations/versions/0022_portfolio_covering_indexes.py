"""indexes that answer a portfolio's pages alone: its items newest evidence first (the evidence
list's page and count) and its claims by time (what progress keys its kept statuses on)

Revision ID: 0022_portfolio_covering_indexes
Revises: 0021_trail_indexes
Create Date: 2026-12-03

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0022_portfolio_covering_indexes'
down_revision = '0021_trail_indexes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('evidence_items', schema=None) as batch_op:
        batch_op.create_index('ix_evidence_items_enrolment_id_evidence_date', ['enrolment_id', 'evidence_date', 'id', 'withdrawn_at'], unique=False)

    with op.batch_alter_table('criterion_claims', schema=None) as batch_op:
        batch_op.create_index('ix_criterion_claims_enrolment_id_created_at', ['enrolment_id', 'created_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('criterion_claims', schema=None) as batch_op:
        batch_op.drop_index('ix_criterion_claims_enrolment_id_created_at')

    with op.batch_alter_table('evidence_items', schema=None) as batch_op:
        batch_op.drop_index('ix_evidence_items_enrolment_id_evidence_date')
