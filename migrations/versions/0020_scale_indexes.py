"""indexes the pages need at scale: a centre's people by role

Revision ID: 0020_scale_indexes
Revises: 0019_sampling_strategy
Create Date: 2026-12-02

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0020_scale_indexes'
down_revision = '0019_sampling_strategy'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.create_index('ix_role_grants_centre_id_role', ['centre_id', 'role'], unique=False)


def downgrade():
    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.drop_index('ix_role_grants_centre_id_role')
