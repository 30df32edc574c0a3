"""standardisation: activities, their participants, evidence, blind judgements, the round's
opening, minutes and agreed actions

Revision ID: 0017_standardisation
Revises: 0016_portfolio_indexes
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa

import portfolio.core.db


# revision identifiers, used by Alembic.
revision = '0017_standardisation'
down_revision = '0016_portfolio_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('standardisation_activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('qualification_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', portfolio.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_standardisation_activities_centre_id_centres')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_standardisation_activities_created_by_id_users')),
    sa.ForeignKeyConstraint(['lead_id'], ['users.id'], name=op.f('fk_standardisation_activities_lead_id_users')),
    sa.ForeignKeyConstraint(['qualification_id'], ['qualifications.id'], name=op.f('fk_standardisation_activities_qualification_id_qualifications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standardisation_activities'))
    )
    with op.batch_alter_table('standardisation_activities', schema=None) as batch_op:
        batch_op.create_index('ix_standardisation_activities_centre_id_held_on', ['centre_id', 'held_on'], unique=False)

    op.create_table('standardisation_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', portfolio.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['standardisation_activities.id'], name='fk_standardisation_actions_activity'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_standardisation_actions_owner_id_users')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_standardisation_actions_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standardisation_actions'))
    )
    with op.batch_alter_table('standardisation_actions', schema=None) as batch_op:
        batch_op.create_index('ix_standardisation_actions_activity_id', ['activity_id'], unique=False)
        batch_op.create_index('ix_standardisation_actions_owner_id', ['owner_id'], unique=False)

    op.create_table('standardisation_minutes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('at', portfolio.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['standardisation_activities.id'], name='fk_standardisation_minutes_activity'),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_standardisation_minutes_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standardisation_minutes'))
    )
    with op.batch_alter_table('standardisation_minutes', schema=None) as batch_op:
        batch_op.create_index('ix_standardisation_minutes_activity_id', ['activity_id'], unique=False)

    op.create_table('standardisation_participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('invited_at', portfolio.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['standardisation_activities.id'], name='fk_standardisation_participants_activity'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_standardisation_participants_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standardisation_participants')),
    sa.UniqueConstraint('activity_id', 'user_id', name=op.f('uq_standardisation_participants_activity_id_user_id'))
    )
    with op.batch_alter_table('standardisation_participants', schema=None) as batch_op:
        batch_op.create_index('ix_standardisation_participants_user_id', ['user_id'], unique=False)

    op.create_table('standardisation_round_openings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('closed_by_lead', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('at', portfolio.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['standardisation_activities.id'], name='fk_standardisation_round_openings_activity'),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_standardisation_round_openings_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standardisation_round_openings')),
    sa.UniqueConstraint('activity_id', name=op.f('uq_standardisation_round_openings_activity_id'))
    )
    op.create_table('standardisation_evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('file_hashes', sa.JSON(), nullable=False),
    sa.Column('object_key', sa.String(length=200), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('content_type', sa.String(length=120), nullable=True),
    sa.Column('original_name', sa.String(length=255), nullable=True),
    sa.Column('thumbnail_key', sa.String(length=200), nullable=True),
    sa.Column('preview_key', sa.String(length=200), nullable=True),
    sa.Column('added_by_id', sa.Integer(), nullable=False),
    sa.Column('added_at', portfolio.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(item_id IS NULL) <> (object_key IS NULL)', name=op.f('ck_standardisation_evidence_item_or_exemplar')),
    sa.ForeignKeyConstraint(['activity_id'], ['standardisation_activities.id'], name='fk_standardisation_evidence_activity'),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_standardisation_evidence_added_by_id_users')),
    sa.ForeignKeyConstraint(['item_id'], ['evidence_items.id'], name=op.f('fk_standardisation_evidence_item_id_evidence_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standardisation_evidence')),
    sa.UniqueConstraint('activity_id', 'item_id', name=op.f('uq_standardisation_evidence_activity_id_item_id')),
    sa.UniqueConstraint('object_key', name=op.f('uq_standardisation_evidence_object_key'))
    )
    op.create_table('standardisation_criteria',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evidence_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['criterion_id'], ['criteria.id'], name=op.f('fk_standardisation_criteria_criterion_id_criteria')),
    sa.ForeignKeyConstraint(['evidence_id'], ['standardisation_evidence.id'], name='fk_standardisation_criteria_evidence'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standardisation_criteria')),
    sa.UniqueConstraint('evidence_id', 'criterion_id', name=op.f('uq_standardisation_criteria_evidence_id_criterion_id'))
    )
    op.create_table('standardisation_judgements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evidence_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.Column('judge_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('recorded_at', portfolio.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("outcome IN ('met', 'not_yet_met')", name=op.f('ck_standardisation_judgements_known_outcome')),
    sa.ForeignKeyConstraint(['evidence_id', 'criterion_id'], ['standardisation_criteria.evidence_id', 'standardisation_criteria.criterion_id'], name='fk_standardisation_judgements_criterion'),
    sa.ForeignKeyConstraint(['judge_id'], ['users.id'], name=op.f('fk_standardisation_judgements_judge_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standardisation_judgements')),
    sa.UniqueConstraint('evidence_id', 'criterion_id', 'judge_id', name=op.f('uq_standardisation_judgements_evidence_id_criterion_id_judge_id'))
    )


def downgrade():
    op.drop_table('standardisation_judgements')
    op.drop_table('standardisation_criteria')
    op.drop_table('standardisation_evidence')
    op.drop_table('standardisation_round_openings')
    with op.batch_alter_table('standardisation_participants', schema=None) as batch_op:
        batch_op.drop_index('ix_standardisation_participants_user_id')

    op.drop_table('standardisation_participants')
    with op.batch_alter_table('standardisation_minutes', schema=None) as batch_op:
        batch_op.drop_index('ix_standardisation_minutes_activity_id')

    op.drop_table('standardisation_minutes')
    with op.batch_alter_table('standardisation_actions', schema=None) as batch_op:
        batch_op.drop_index('ix_standardisation_actions_owner_id')
        batch_op.drop_index('ix_standardisation_actions_activity_id')

    op.drop_table('standardisation_actions')
    with op.batch_alter_table('standardisation_activities', schema=None) as batch_op:
        batch_op.drop_index('ix_standardisation_activities_centre_id_held_on')

    op.drop_table('standardisation_activities')
