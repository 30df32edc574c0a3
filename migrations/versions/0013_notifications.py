"""notifications and each person's mail preference

Revision ID: 0013_notifications
Revises: 0012_staff_records
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa

import portfolio.core.db


# revision identifiers, used by Alembic.
revision = '0013_notifications'
down_revision = '0012_staff_records'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('text', sa.String(length=300), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=False),
    sa.Column('created_at', portfolio.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', portfolio.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('digested_at', portfolio.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_notifications_centre_id_centres')),
    sa.ForeignKeyConstraint(['recipient_id'], ['users.id'], name=op.f('fk_notifications_recipient_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_recipient_id_id', ['recipient_id', 'id'], unique=False)
        batch_op.create_index('ix_notifications_recipient_id_read_at', ['recipient_id', 'read_at'], unique=False)

    op.create_table('notification_preferences',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('mail', sa.String(length=10), nullable=False),
    sa.Column('last_digest_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_preferences_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notification_preferences'))
    )


def downgrade():
    op.drop_table('notification_preferences')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_recipient_id_read_at')
        batch_op.drop_index('ix_notifications_recipient_id_id')

    op.drop_table('notifications')
