"""Status reports: someone saw that an elder died, moved away or went into hospital, and a
supervisor confirms or rejects it. The report is the record of the change; nothing is deleted."""

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.columns import TimestampMixin, UTCDateTime
from backend.elders.models import Elder
from backend.extensions import db


class StatusReport(TimestampMixin, db.Model):
    __tablename__ = "status_reports"
    __table_args__ = (
        # One report waits for a decision per elder at a time: a second one joins the first.
        Index("uq_status_reports_pending_elder", "elder_id", unique=True,
              postgresql_where=text("state = 'pending'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    elder_id: Mapped[int] = mapped_column(ForeignKey("elders.id", ondelete="RESTRICT"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    # When it happened, as far as the reporter knows; the expected return date of a hospital stay.
    occurred_on: Mapped[date | None] = mapped_column(Date)
    returns_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    # The patrol report that said so, when a patrol did.
    visit_item_id: Mapped[str | None] = mapped_column(ForeignKey("visit_item_ids.id", ondelete="SET NULL"))
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    followup_id: Mapped[int | None] = mapped_column(ForeignKey("followups.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    # What confirming it did: tasks cancelled, plans ended or paused (ids), for the record.
    effects: Mapped[dict | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    elder: Mapped[Elder] = relationship()

    __mapper_args__ = {"version_id_col": version}
