"""Rectification orders (限期整改) a supervisor issues to a provider, and their history.

An order is never edited except by its lifecycle verbs: the provider responds, the supervisor
accepts, extends (a later deadline) or escalates. Each verb appends an event, so the page shows
who did what and when; the audit trail records every write besides.
"""

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.clock import local_today, utcnow
from backend.columns import TimestampMixin, UTCDateTime
from backend.extensions import db
from backend.providers.models import Provider
from backend.users.models import User


class Rectification(TimestampMixin, db.Model):
    __tablename__ = "rectifications"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'responded', 'accepted', 'escalated')", name="status_known"),
        CheckConstraint("source IN ('monthly_list', 'ad_hoc')", name="source_known"),
        CheckConstraint("source <> 'monthly_list' OR month IS NOT NULL", name="listed_has_month"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="RESTRICT"), nullable=False,
                                             index=True)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    month: Mapped[str | None] = mapped_column(String(7))  # "YYYY-MM" of the monthly list it came from
    findings: Mapped[str] = mapped_column(Text, nullable=False)
    # The visits (task ids) and figures behind the findings, as the supervisor gave them.
    task_ids: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    figures: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    due_on: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")
    extensions: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    response: Mapped[str | None] = mapped_column(Text)
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # accepted or escalated
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    provider: Mapped[Provider] = relationship()
    events: Mapped[list["RectificationEvent"]] = relationship(order_by="RectificationEvent.id",
                                                              back_populates="rectification")

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_overdue(self) -> bool:
        """Still awaiting the provider's response past its deadline (computed: no job needed)."""
        return self.status == "open" and self.due_on < local_today(utcnow())


class RectificationEvent(db.Model):
    __tablename__ = "rectification_events"
    __table_args__ = (
        CheckConstraint("action IN ('issued', 'responded', 'accepted', 'extended', 'escalated')",
                        name="action_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rectification_id: Mapped[int] = mapped_column(ForeignKey("rectifications.id", ondelete="CASCADE"),
                                                  nullable=False, index=True)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    due_on: Mapped[date | None] = mapped_column(Date)  # the deadline this event set

    rectification: Mapped[Rectification] = relationship(back_populates="events")
    by: Mapped[User] = relationship()
