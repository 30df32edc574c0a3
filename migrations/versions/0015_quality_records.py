"""quality records and countersignatures

Revision ID: 0015_quality_records
Revises: 0014_item_feedback
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa

import portfolio.core.db


# revision identifiers, used by Alembic.
revision = '0015_quality_records'
down_revision = '0014_item_feedback'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('needs_countersignature', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_unique_constraint('uq_decisions_id_assessor_id', ['id', 'assessor_id'])

    with op.batch_alter_table('unit_sign_offs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('needs_countersignature', sa.Boolean(), server_default=sa.false(), nullable=False))

    op.create_table('sampling_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('iqa_id', sa.Integer(), nullable=False),
    sa.Column('assessor_id', sa.Integer(), nullable=False),
    sa.Column('qualification_id', sa.Integer(), nullable=False),
    sa.Column('cycle_starts_on', sa.Date(), nullable=False),
    sa.Column('cycle_ends_on', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', portfolio.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('cycle_ends_on > cycle_starts_on', name=op.f('ck_sampling_plans_cycle_in_order')),
    sa.CheckConstraint('iqa_id <> assessor_id', name=op.f('ck_sampling_plans_iqa_is_not_assessor')),
    sa.ForeignKeyConstraint(['assessor_id'], ['users.id'], name=op.f('fk_sampling_plans_assessor_id_users')),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_sampling_plans_centre_id_centres')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_sampling_plans_created_by_id_users')),
    sa.ForeignKeyConstraint(['iqa_id'], ['users.id'], name=op.f('fk_sampling_plans_iqa_id_users')),
    sa.ForeignKeyConstraint(['qualification_id'], ['qualifications.id'], name=op.f('fk_sampling_plans_qualification_id_qualifications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sampling_plans')),
    sa.UniqueConstraint('iqa_id', 'assessor_id', 'qualification_id', 'cycle_starts_on', name=op.f('uq_sampling_plans_iqa_id_assessor_id_qualification_id_cycle_starts_on'))
    )
    with op.batch_alter_table('sampling_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sampling_plans_assessor_id'), ['assessor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sampling_plans_centre_id'), ['centre_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sampling_plans_iqa_id'), ['iqa_id'], unique=False)

    op.create_table('plan_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('made_by_id', sa.Integer(), nullable=False),
    sa.Column('made_at', portfolio.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['made_by_id'], ['users.id'], name=op.f('fk_plan_revisions_made_by_id_users')),
    sa.ForeignKeyConstraint(['plan_id'], ['sampling_plans.id'], name=op.f('fk_plan_revisions_plan_id_sampling_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_revisions'))
    )
    with op.batch_alter_table('plan_revisions', schema=None) as batch_op:
        batch_op.create_index('ix_plan_revisions_plan_id_id', ['plan_id', 'id'], unique=False)

    op.create_table('planned_samples',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('added_in_id', sa.Integer(), nullable=False),
    sa.Column('removed_in_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("stage IN ('interim', 'summative')", name=op.f('ck_planned_samples_known_stage')),
    sa.ForeignKeyConstraint(['added_in_id'], ['plan_revisions.id'], name=op.f('fk_planned_samples_added_in_id_plan_revisions')),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_planned_samples_enrolment_id_enrolments')),
    sa.ForeignKeyConstraint(['plan_id'], ['sampling_plans.id'], name=op.f('fk_planned_samples_plan_id_sampling_plans')),
    sa.ForeignKeyConstraint(['removed_in_id'], ['plan_revisions.id'], name=op.f('fk_planned_samples_removed_in_id_plan_revisions')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_planned_samples_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_planned_samples'))
    )
    with op.batch_alter_table('planned_samples', schema=None) as batch_op:
        batch_op.create_index('ix_planned_samples_enrolment_id_unit_id', ['enrolment_id', 'unit_id'], unique=False)
        batch_op.create_index('ix_planned_samples_plan_id', ['plan_id'], unique=False)

    op.create_table('samples',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('qualification_id', sa.Integer(), nullable=False),
    sa.Column('iqa_id', sa.Integer(), nullable=False),
    sa.Column('assessor_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('planned_sample_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', portfolio.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=30), nullable=False),
    sa.Column('feedback', sa.Text(), nullable=False),
    sa.Column('needs_countersignature', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.CheckConstraint("outcome IN ('agree', 'agree_with_feedback', 'action_required')", name=op.f('ck_samples_known_outcome')),
    sa.CheckConstraint("stage IN ('interim', 'summative')", name=op.f('ck_samples_known_stage')),
    sa.CheckConstraint('iqa_id <> assessor_id', name=op.f('ck_samples_iqa_is_not_assessor')),
    sa.ForeignKeyConstraint(['assessor_id'], ['users.id'], name=op.f('fk_samples_assessor_id_users')),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_samples_centre_id_centres')),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_samples_enrolment_id_enrolments')),
    sa.ForeignKeyConstraint(['iqa_id'], ['users.id'], name=op.f('fk_samples_iqa_id_users')),
    sa.ForeignKeyConstraint(['planned_sample_id'], ['planned_samples.id'], name=op.f('fk_samples_planned_sample_id_planned_samples')),
    sa.ForeignKeyConstraint(['qualification_id'], ['qualifications.id'], name=op.f('fk_samples_qualification_id_qualifications')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_samples_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_samples')),
    sa.UniqueConstraint('id', 'iqa_id', name='uq_samples_id_iqa_id')
    )
    with op.batch_alter_table('samples', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_samples_assessor_id'), ['assessor_id'], unique=False)
        batch_op.create_index('ix_samples_centre_id_recorded_at', ['centre_id', 'recorded_at'], unique=False)
        batch_op.create_index('ix_samples_enrolment_id_unit_id', ['enrolment_id', 'unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_samples_iqa_id'), ['iqa_id'], unique=False)
        batch_op.create_index('uq_samples_planned_sample_id', ['planned_sample_id'], unique=True, sqlite_where=sa.text('planned_sample_id IS NOT NULL'), postgresql_where=sa.text('planned_sample_id IS NOT NULL'))

    op.create_table('countersignatures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=True),
    sa.Column('sign_off_id', sa.Integer(), nullable=True),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('at', portfolio.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(decision_id IS NULL) <> (sign_off_id IS NULL)', name=op.f('ck_countersignatures_decision_or_sign_off')),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_countersignatures_by_id_users')),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], name=op.f('fk_countersignatures_decision_id_decisions')),
    sa.ForeignKeyConstraint(['sign_off_id'], ['unit_sign_offs.id'], name=op.f('fk_countersignatures_sign_off_id_unit_sign_offs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_countersignatures')),
    sa.UniqueConstraint('decision_id', name=op.f('uq_countersignatures_decision_id')),
    sa.UniqueConstraint('sign_off_id', name=op.f('uq_countersignatures_sign_off_id'))
    )
    with op.batch_alter_table('countersignatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_countersignatures_by_id'), ['by_id'], unique=False)

    op.create_table('sample_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sample_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('raised_at', portfolio.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_sample_actions_owner_id_users')),
    sa.ForeignKeyConstraint(['sample_id'], ['samples.id'], name=op.f('fk_sample_actions_sample_id_samples')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sample_actions'))
    )
    with op.batch_alter_table('sample_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sample_actions_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index('ix_sample_actions_sample_id', ['sample_id'], unique=False)

    op.create_table('sample_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sample_id', sa.Integer(), nullable=False),
    sa.Column('check', sa.String(length=20), nullable=False),
    sa.Column('satisfied', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.CheckConstraint('"check" IN (\'valid\', \'authentic\', \'current\', \'sufficient\', \'reliable\')', name=op.f('ck_sample_checks_known_check')),
    sa.ForeignKeyConstraint(['sample_id'], ['samples.id'], name=op.f('fk_sample_checks_sample_id_samples')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sample_checks')),
    sa.UniqueConstraint('sample_id', 'check', name=op.f('uq_sample_checks_sample_id_check'))
    )
    op.create_table('sample_countersignatures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sample_id', sa.Integer(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('at', portfolio.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_sample_countersignatures_by_id_users')),
    sa.ForeignKeyConstraint(['sample_id'], ['samples.id'], name=op.f('fk_sample_countersignatures_sample_id_samples')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sample_countersignatures')),
    sa.UniqueConstraint('sample_id', name=op.f('uq_sample_countersignatures_sample_id'))
    )
    op.create_table('sampled_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sample_id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('decision_assessor_id', sa.Integer(), nullable=False),
    sa.Column('iqa_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('iqa_id <> decision_assessor_id', name=op.f('ck_sampled_decisions_not_own_decision')),
    sa.ForeignKeyConstraint(['decision_assessor_id'], ['users.id'], name=op.f('fk_sampled_decisions_decision_assessor_id_users')),
    sa.ForeignKeyConstraint(['decision_id', 'decision_assessor_id'], ['decisions.id', 'decisions.assessor_id'], name='fk_sampled_decisions_decision_assessor'),
    sa.ForeignKeyConstraint(['iqa_id'], ['users.id'], name=op.f('fk_sampled_decisions_iqa_id_users')),
    sa.ForeignKeyConstraint(['sample_id', 'iqa_id'], ['samples.id', 'samples.iqa_id'], name='fk_sampled_decisions_sample_iqa'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sampled_decisions')),
    sa.UniqueConstraint('sample_id', 'decision_id', name=op.f('uq_sampled_decisions_sample_id_decision_id'))
    )
    with op.batch_alter_table('sampled_decisions', schema=None) as batch_op:
        batch_op.create_index('ix_sampled_decisions_decision_id', ['decision_id'], unique=False)

    op.create_table('sampled_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sample_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('file_hashes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['evidence_items.id'], name=op.f('fk_sampled_items_item_id_evidence_items')),
    sa.ForeignKeyConstraint(['sample_id'], ['samples.id'], name=op.f('fk_sampled_items_sample_id_samples')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sampled_items')),
    sa.UniqueConstraint('sample_id', 'item_id', name=op.f('uq_sampled_items_sample_id_item_id'))
    )
    op.create_table('action_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('at', portfolio.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.CheckConstraint("kind IN ('response', 'closed', 'reopened')", name=op.f('ck_action_entries_known_kind')),
    sa.ForeignKeyConstraint(['action_id'], ['sample_actions.id'], name=op.f('fk_action_entries_action_id_sample_actions')),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_action_entries_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_entries'))
    )
    with op.batch_alter_table('action_entries', schema=None) as batch_op:
        batch_op.create_index('ix_action_entries_action_id_id', ['action_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('action_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_action_entries_action_id_id')

    op.drop_table('action_entries')
    op.drop_table('sampled_items')
    with op.batch_alter_table('sampled_decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_sampled_decisions_decision_id')

    op.drop_table('sampled_decisions')
    op.drop_table('sample_countersignatures')
    op.drop_table('sample_checks')
    with op.batch_alter_table('sample_actions', schema=None) as batch_op:
        batch_op.drop_index('ix_sample_actions_sample_id')
        batch_op.drop_index(batch_op.f('ix_sample_actions_owner_id'))

    op.drop_table('sample_actions')
    with op.batch_alter_table('countersignatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_countersignatures_by_id'))

    op.drop_table('countersignatures')
    with op.batch_alter_table('samples', schema=None) as batch_op:
        batch_op.drop_index('uq_samples_planned_sample_id', sqlite_where=sa.text('planned_sample_id IS NOT NULL'), postgresql_where=sa.text('planned_sample_id IS NOT NULL'))
        batch_op.drop_index(batch_op.f('ix_samples_iqa_id'))
        batch_op.drop_index('ix_samples_enrolment_id_unit_id')
        batch_op.drop_index('ix_samples_centre_id_recorded_at')
        batch_op.drop_index(batch_op.f('ix_samples_assessor_id'))

    op.drop_table('samples')
    with op.batch_alter_table('planned_samples', schema=None) as batch_op:
        batch_op.drop_index('ix_planned_samples_plan_id')
        batch_op.drop_index('ix_planned_samples_enrolment_id_unit_id')

    op.drop_table('planned_samples')
    with op.batch_alter_table('plan_revisions', schema=None) as batch_op:
        batch_op.drop_index('ix_plan_revisions_plan_id_id')

    op.drop_table('plan_revisions')
    with op.batch_alter_table('sampling_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sampling_plans_iqa_id'))
        batch_op.drop_index(batch_op.f('ix_sampling_plans_centre_id'))
        batch_op.drop_index(batch_op.f('ix_sampling_plans_assessor_id'))

    op.drop_table('sampling_plans')

    with op.batch_alter_table('unit_sign_offs', schema=None) as batch_op:
        batch_op.drop_column('needs_countersignature')

    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_constraint('uq_decisions_id_assessor_id', type_='unique')
        batch_op.drop_column('needs_countersignature')
