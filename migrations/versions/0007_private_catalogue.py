"""a qualification version may belong to one centre

Revision ID: 0007_private_catalogue
Revises: 0006_sessions_and_login_attempts
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_private_catalogue'
down_revision = '0006_sessions_and_login_attempts'
branch_labels = None
depends_on = None


def upgrade():
    # Every existing version stays global (NULL): until now every import was shared.
    with op.batch_alter_table('qualification_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('centre_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_qualification_versions_centre_id'), ['centre_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_qualification_versions_centre_id_centres'),
                                    'centres', ['centre_id'], ['id'])


def downgrade():
    # A centre's private versions cannot become global silently: refuse while any exist.
    connection = op.get_bind()
    if connection.scalar(sa.text(
            'SELECT COUNT(*) FROM qualification_versions WHERE centre_id IS NOT NULL')):
        raise RuntimeError('centres own private qualification versions: remove them (and the '
                           'enrolments on them) before downgrading below 0007')
    with op.batch_alter_table('qualification_versions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_qualification_versions_centre_id_centres'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_qualification_versions_centre_id'))
        batch_op.drop_column('centre_id')
