"""The door plate: one signed QR code fixed at an elder's home, active until revoked or replaced."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.columns import UTCDateTime
from backend.elders.models import Elder
from backend.extensions import db

KINDS = ("static", "dynamic")
STATUSES = ("active", "revoked")

_ACTIVE = text("status = 'active'")


class DoorPlate(db.Model):
    """A plate as issued. Rows are never deleted: visits keep pointing at the plate they scanned.

    `plate_id` is the random id inside the QR payload; `serial` is what people read off the plate.
    At most one plate per elder is active, enforced by a partial unique index.
    """

    __tablename__ = "door_plates"
    __table_args__ = (
        CheckConstraint("kind IN ('static', 'dynamic')", name="kind_known"),
        CheckConstraint("status IN ('active', 'revoked')", name="status_known"),
        CheckConstraint("(status = 'revoked') = (revoked_at IS NOT NULL)", name="revoked_at_iff_revoked"),
        Index("uq_door_plates_one_active_per_elder", "elder_id", unique=True, postgresql_where=_ACTIVE),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # RESTRICT: a plate is presence evidence for past visits; elders are deactivated, not deleted.
    elder_id: Mapped[int] = mapped_column(ForeignKey("elders.id", ondelete="RESTRICT"), nullable=False,
                                          index=True)
    plate_id: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    key_version: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(8), nullable=False, default="static")
    serial: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    status: Mapped[str] = mapped_column(String(8), nullable=False, default="active")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(200))
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    elder: Mapped[Elder] = relationship()

    def __repr__(self):
        return f"<DoorPlate {self.id} {self.serial} {self.kind} {self.status}>"
