"""Privacy policy versions (issue #6 part 5, policy section 13 / P46): each row of
``policy_versions`` gains the full policy ``text`` of that version, when it was
published (``published_at``) and by whom (``published_by``: the actor, a user id or
an operator label). All three are nullable: the initial version seeded by 0001 has
no stored text (the portal shows the text shipped with the code for it) and was
never "published" through the service.

Downgrading drops the three columns. SQLite drops them with its own
``ALTER TABLE ... DROP COLUMN`` (3.35+), never by rebuilding the table:
``policy_acceptances`` refers to it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-18
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

NEW_COLUMNS = ("text", "published_at", "published_by")


def upgrade() -> None:
    op.add_column("policy_versions", sa.Column("text", sa.Text(), nullable=True))
    op.add_column("policy_versions", sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("policy_versions", sa.Column("published_by", sa.String(255), nullable=True))


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for column in reversed(NEW_COLUMNS):
        if sqlite:
            op.execute(f"ALTER TABLE policy_versions DROP COLUMN {column}")
        else:
            op.drop_column("policy_versions", column)
