"""An identity document number is unique within its kind of document (id_document_type), no longer
across kinds: a resident ID number is also a well-formed passport number.

Downgrading puts back the uniqueness of the number alone, and fails while two elders' documents
of different kinds share a number.

Revision ID: 0019_smallfix
Revises: 0018_settlement_caps
"""
from alembic import op

revision = "0019_smallfix"
down_revision = "0018_settlement_caps"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_constraint(op.f("uq_elders_id_card_no"), "elders", type_="unique")
    op.create_unique_constraint(op.f("uq_elders_id_document_type_id_card_no"), "elders",
                                ["id_document_type", "id_card_no"])


def downgrade():
    op.drop_constraint(op.f("uq_elders_id_document_type_id_card_no"), "elders", type_="unique")
    op.create_unique_constraint(op.f("uq_elders_id_card_no"), "elders", ["id_card_no"])
