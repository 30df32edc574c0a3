"""the learner's pathway: chosen units, one append-only row per choice

Revision ID: 0010_pathways
Revises: 0009_enrolment_history
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa

import portfolio.core.db


# revision identifiers, used by Alembic.
revision = '0010_pathways'
down_revision = '0009_enrolment_history'
branch_labels = None
depends_on = None


def upgrade():
    # No enrolment has a pathway yet: progress counts every unit until one is chosen.
    op.create_table('pathway_choices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('units', sa.JSON(), nullable=False),
    sa.Column('chosen_by_id', sa.Integer(), nullable=False),
    sa.Column('chosen_at', portfolio.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['chosen_by_id'], ['users.id'], name=op.f('fk_pathway_choices_chosen_by_id_users')),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_pathway_choices_enrolment_id_enrolments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pathway_choices'))
    )
    with op.batch_alter_table('pathway_choices', schema=None) as batch_op:
        batch_op.create_index('ix_pathway_choices_enrolment_id_id', ['enrolment_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('pathway_choices', schema=None) as batch_op:
        batch_op.drop_index('ix_pathway_choices_enrolment_id_id')
    op.drop_table('pathway_choices')
