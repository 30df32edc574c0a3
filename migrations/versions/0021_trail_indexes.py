"""indexes the IQA trail needs at scale: a centre's countersigned decisions and its sign-offs
waiting for a countersignature, through its enrolments

Revision ID: 0021_trail_indexes
Revises: 0020_scale_indexes
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021_trail_indexes'
down_revision = '0020_scale_indexes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('countersignatures', schema=None) as batch_op:
        batch_op.create_index('ix_countersignatures_enrolment_id_decision_id', ['enrolment_id', 'decision_id'], unique=False, sqlite_where=sa.text('decision_id IS NOT NULL'), postgresql_where=sa.text('decision_id IS NOT NULL'))

    with op.batch_alter_table('unit_sign_offs', schema=None) as batch_op:
        batch_op.create_index('ix_unit_sign_offs_enrolment_id_signed_at', ['enrolment_id', 'signed_at'], unique=False, sqlite_where=sa.text('needs_countersignature'), postgresql_where=sa.text('needs_countersignature'))


def downgrade():
    with op.batch_alter_table('unit_sign_offs', schema=None) as batch_op:
        batch_op.drop_index('ix_unit_sign_offs_enrolment_id_signed_at', sqlite_where=sa.text('needs_countersignature'), postgresql_where=sa.text('needs_countersignature'))

    with op.batch_alter_table('countersignatures', schema=None) as batch_op:
        batch_op.drop_index('ix_countersignatures_enrolment_id_decision_id', sqlite_where=sa.text('decision_id IS NOT NULL'), postgresql_where=sa.text('decision_id IS NOT NULL'))
