"""role grants replace the role flags on users

Revision ID: 0005_role_grants
Revises: 0004_queue
Create Date: 2026-11-24

"""
from alembic import op
import sqlalchemy as sa

import portfolio.core.db


# revision identifiers, used by Alembic.
revision = '0005_role_grants'
down_revision = '0004_queue'
branch_labels = None
depends_on = None

# The role each flag column stood for, in the order the grants are copied.
FLAGS = [('learner', 'is_learner'), ('assessor', 'is_assessor'), ('iqa', 'is_iqa'),
         ('centre_admin', 'is_centre_admin')]


def upgrade():
    op.create_table('role_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('scope_type', sa.String(length=20), nullable=True),
    sa.Column('scope_id', sa.Integer(), nullable=True),
    sa.Column('expires_at', portfolio.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('granted_at', portfolio.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("role IN ('learner', 'assessor', 'iqa', 'centre_admin')", name=op.f('ck_role_grants_known_role')),
    sa.CheckConstraint('(scope_type IS NULL AND scope_id IS NULL) OR (scope_type IS NOT NULL AND scope_id IS NOT NULL)', name=op.f('ck_role_grants_scope_complete')),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_role_grants_centre_id_centres')),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], name=op.f('fk_role_grants_granted_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_role_grants_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_role_grants'))
    )
    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_role_grants_user_id'), ['user_id'], unique=False)

    # One grant per flag set: held in the user's own centre, over everything, since the account
    # was created, by nobody in particular.
    for role, flag in FLAGS:
        op.execute(sa.text(f"""
            INSERT INTO role_grants (user_id, centre_id, role, granted_at)
            SELECT id, centre_id, :role, created_at FROM users WHERE {flag}
            ORDER BY id
        """).bindparams(role=role))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_users_learner_is_not_staff'), type_='check')
        for _, flag in reversed(FLAGS):
            batch_op.drop_column(flag)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        for _, flag in FLAGS:
            batch_op.add_column(sa.Column(flag, sa.Boolean(), nullable=False,
                                          server_default=sa.false()))

    # A user's flags are their unexpired, unscoped grants in their own centre; grants in other
    # centres, scoped grants and expired ones have no flag to go to and are lost.
    for role, flag in FLAGS:
        op.execute(sa.text(f"""
            UPDATE users SET {flag} = TRUE WHERE EXISTS (
                SELECT 1 FROM role_grants g WHERE g.user_id = users.id
                AND g.centre_id = users.centre_id AND g.role = :role
                AND g.scope_type IS NULL
                AND (g.expires_at IS NULL OR g.expires_at > CURRENT_TIMESTAMP))
        """).bindparams(role=role))

    with op.batch_alter_table('users', schema=None) as batch_op:
        for _, flag in FLAGS:
            batch_op.alter_column(flag, existing_type=sa.Boolean(), existing_nullable=False,
                                  server_default=None)
        batch_op.create_check_constraint(
            batch_op.f('ck_users_learner_is_not_staff'),
            'NOT (is_learner AND (is_assessor OR is_iqa OR is_centre_admin))')

    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_role_grants_user_id'))

    op.drop_table('role_grants')
