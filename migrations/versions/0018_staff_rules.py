"""what a qualification says of assessors and IQAs working towards their qualification

Revision ID: 0018_staff_rules
Revises: 0017_standardisation
Create Date: 2026-12-02 17:20:19.788978

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_staff_rules'
down_revision = '0017_standardisation'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('qualification_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('working_towards', sa.JSON(),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('qualification_versions', schema=None) as batch_op:
        batch_op.drop_column('working_towards')
