"""Supervisors' decisions on visits (the review history), and monthly phone call-backs (电话回访).

A visit's decisions form a chain: each new one supersedes the one before it, and none is ever
changed except to record that, or an admin's unlock. `(task_id, seq)` is unique, so two
decisions taken at once on the same visit cannot both become current. A draw is unique per
(month, provider, round): drawing again returns it, a redraw is the next round.
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.clock import utcnow
from backend.columns import UTCDateTime
from backend.extensions import db
from backend.tasks.models import Task


class Review(db.Model):
    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("task_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task_keys.id", ondelete="RESTRICT"), nullable=False, index=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit_keys.id", ondelete="RESTRICT"), nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    decision: Mapped[str] = mapped_column(String(24), nullable=False)
    reason_code: Mapped[str] = mapped_column(String(32), nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id", ondelete="RESTRICT"))
    # Past its lock window a decision stands unless an admin unlocks it, with a reason.
    unlocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unlocked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    unlock_reason: Mapped[str | None] = mapped_column(Text)

    task: Mapped[Task] = relationship(primaryjoin="foreign(Review.task_id) == Task.id")
    # The provider's answer when this decision asked for an explanation.
    explanation: Mapped["ReviewExplanation | None"] = relationship(uselist=False, viewonly=True)

    @property
    def is_current(self) -> bool:
        return self.superseded_by_id is None

    @property
    def locks_at(self) -> datetime:
        return self.decided_at + timedelta(days=current_app.config["REVIEW_LOCK_DAYS"])

    def is_locked_at(self, at: datetime) -> bool:
        """Locked once its window has passed, unless an admin unlocked it (computed: no job needed)."""
        return self.unlocked_at is None and at >= self.locks_at

    @property
    def is_locked(self) -> bool:
        return self.is_locked_at(utcnow())


class CallbackDraw(db.Model):
    """One provider's random draw of a month's completed visits, with what makes it reproducible:
    the seed, the share, and the population (its size and a digest of its task ids)."""

    __tablename__ = "callback_draws"
    __table_args__ = (UniqueConstraint("month", "provider_id", "round"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7), nullable=False)  # "YYYY-MM", care time zone
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="RESTRICT"), nullable=False,
                                             index=True)
    round: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=1)
    seed: Mapped[int] = mapped_column(BigInteger, nullable=False)
    share: Mapped[float] = mapped_column(Float, nullable=False)
    population: Mapped[int] = mapped_column(Integer, nullable=False)
    population_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    drawn_task_ids: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)  # why it was redrawn


class Callback(db.Model):
    """One drawn visit to call the elder about, and what the elder said."""

    __tablename__ = "callbacks"
    __table_args__ = (UniqueConstraint("draw_id", "task_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("callback_draws.id", ondelete="RESTRICT"), nullable=False,
                                         index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task_keys.id", ondelete="RESTRICT"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    is_confirmed: Mapped[bool | None] = mapped_column(Boolean)
    satisfaction: Mapped[int | None] = mapped_column(SmallInteger)
    note: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)
    called_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    followup_id: Mapped[int | None] = mapped_column(ForeignKey("followups.id", ondelete="SET NULL"))

    draw: Mapped[CallbackDraw] = relationship()
    task: Mapped[Task] = relationship(primaryjoin="foreign(Callback.task_id) == Task.id")


class ReviewExplanation(db.Model):
    """The provider's answer to a request for an explanation (one per request): the supervisor
    reads it and decides again; the decision chain itself is never edited."""

    __tablename__ = "review_explanations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="RESTRICT"), nullable=False,
                                           unique=True)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    explained_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    explained_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
