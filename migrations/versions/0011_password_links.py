"""password links and forgot-password requests

Revision ID: 0011_password_links
Revises: 0010_pathways
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa

import portfolio.core.db


# revision identifiers, used by Alembic.
revision = '0011_password_links'
down_revision = '0010_pathways'
branch_labels = None
depends_on = None


def upgrade():
    # Existing accounts keep their passwords; those without one (imported learners) get a link
    # when an admin or the operator sends one.
    op.create_table('password_link_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('requested_at', portfolio.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_link_requests'))
    )
    with op.batch_alter_table('password_link_requests', schema=None) as batch_op:
        batch_op.create_index('ix_password_link_requests_address_at', ['address', 'requested_at'], unique=False)
        batch_op.create_index('ix_password_link_requests_email_at', ['email', 'requested_at'], unique=False)

    op.create_table('password_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_digest', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=10), nullable=False),
    sa.Column('created_at', portfolio.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', portfolio.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', portfolio.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('superseded_at', portfolio.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("purpose IN ('set', 'reset')", name=op.f('ck_password_links_known_purpose')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_password_links_issued_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_password_links_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_links')),
    sa.UniqueConstraint('token_digest', name=op.f('uq_password_links_token_digest'))
    )
    with op.batch_alter_table('password_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_links_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('password_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_links_user_id'))

    op.drop_table('password_links')
    with op.batch_alter_table('password_link_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_password_link_requests_email_at')
        batch_op.drop_index('ix_password_link_requests_address_at')

    op.drop_table('password_link_requests')
