"""claims and countersignatures carry their enrolment; decisions indexed by enrolment and id

Revision ID: 0016_portfolio_indexes
Revises: 0015_quality_records
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa

import portfolio.core.db


# revision identifiers, used by Alembic.
revision = '0016_portfolio_indexes'
down_revision = '0015_quality_records'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('countersignatures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('enrolment_id', sa.Integer(), nullable=False))
        batch_op.create_index('ix_countersignatures_enrolment_id_id', ['enrolment_id', 'id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_countersignatures_enrolment_id_enrolments'), 'enrolments', ['enrolment_id'], ['id'])

    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index('ix_decisions_enrolment_id_id', ['enrolment_id', 'id'], unique=False)

    with op.batch_alter_table('evidence_items', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_evidence_items_id_enrolment_id', ['id', 'enrolment_id'])

    with op.batch_alter_table('criterion_claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('enrolment_id', sa.Integer(), nullable=True))
    op.execute("UPDATE criterion_claims SET enrolment_id = (SELECT evidence_items.enrolment_id "
               "FROM evidence_items WHERE evidence_items.id = criterion_claims.item_id)")
    with op.batch_alter_table('criterion_claims', schema=None) as batch_op:
        batch_op.alter_column('enrolment_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index('ix_criterion_claims_enrolment_id_criterion_id', ['enrolment_id', 'criterion_id'], unique=False)
        batch_op.create_foreign_key('fk_criterion_claims_item_enrolment', 'evidence_items', ['item_id', 'enrolment_id'], ['id', 'enrolment_id'])


def downgrade():
    with op.batch_alter_table('criterion_claims', schema=None) as batch_op:
        batch_op.drop_constraint('fk_criterion_claims_item_enrolment', type_='foreignkey')
        batch_op.drop_index('ix_criterion_claims_enrolment_id_criterion_id')
        batch_op.drop_column('enrolment_id')

    with op.batch_alter_table('evidence_items', schema=None) as batch_op:
        batch_op.drop_constraint('uq_evidence_items_id_enrolment_id', type_='unique')

    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_decisions_enrolment_id_id')

    with op.batch_alter_table('countersignatures', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_countersignatures_enrolment_id_enrolments'), type_='foreignkey')
        batch_op.drop_index('ix_countersignatures_enrolment_id_id')
        batch_op.drop_column('enrolment_id')
