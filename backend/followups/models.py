"""Follow-ups: work that something which should have happened, or was seen, creates for someone.

A follow-up has a kind, a priority, an owner, a due time and, once done, a resolution. Its
`dedupe_key` is unique, so the sweep and the sync triggers can open it any number of times and
it exists once. Every step (opened, claimed, commented, escalated, resolved, reopened) is an
event row. Notifications tell each person who must act; phones get both through sync pull.
"""

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.changefeed import ChangeTracked
from backend.columns import TimestampMixin, UTCDateTime, utcnow
from backend.elders.models import Elder
from backend.extensions import db
from backend.users.models import User

# A follow-up still waiting for someone: not yet resolved.
ACTIVE = ("open", "claimed")


class Followup(ChangeTracked, TimestampMixin, db.Model):
    __tablename__ = "followups"
    __table_args__ = (
        Index("ix_followups_owner_status", "owner_id", "status"),
        Index("ix_followups_status_due", "status", "due_at"),
        Index("ix_followups_owner_change_seq", "owner_id", "change_seq"),
        # Escalation reads only unresolved follow-ups past due that still need a step or a word:
        # a partial index keeps that cheap however many are resolved or already reported overdue.
        Index("ix_followups_escalation_due", "due_at",
              postgresql_where=text("status IN ('open', 'claimed') AND overdue_notified_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    priority: Mapped[str] = mapped_column(String(16), nullable=False, default="normal")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")
    dedupe_key: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    elder_id: Mapped[int | None] = mapped_column(ForeignKey("elders.id", ondelete="RESTRICT"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task_keys.id", ondelete="RESTRICT"), index=True)
    # Whose work it concerns (a caregiver for worker_pattern) and which provider is answerable.
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id", ondelete="SET NULL"))
    # The community the follow-up belongs to, for scoping (None for a worker pattern).
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="SET NULL"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    escalation_level: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)
    # Set when the owner was told it is overdue with no escalation step left; cleared whenever
    # due_at moves (reopen), so the escalation job stops reading it until then.
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    details: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolution_code: Mapped[str | None] = mapped_column(String(32))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    rescheduled_task_id: Mapped[int | None] = mapped_column(ForeignKey("task_keys.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    elder: Mapped[Elder | None] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    events: Mapped[list["FollowupEvent"]] = relationship(order_by="FollowupEvent.id", back_populates="followup")

    __mapper_args__ = {"version_id_col": version}


class FollowupEvent(db.Model):
    """One step of a follow-up. Partitioned by month of `at` (backend/partitions.py): the primary
    key holds `at`, as a partitioned table's must, while rows are still known by `id` alone."""

    __tablename__ = "followup_events"
    __table_args__ = {"postgresql_partition_by": "RANGE (at)"}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    followup_id: Mapped[int] = mapped_column(ForeignKey("followups.id", ondelete="CASCADE"), nullable=False,
                                             index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True, default=utcnow)
    action: Mapped[str] = mapped_column(String(20), nullable=False)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    by_system: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)

    followup: Mapped[Followup] = relationship(back_populates="events")

    __mapper_args__ = {"primary_key": [id]}


class Notification(ChangeTracked, db.Model):
    """One event for one person who must act: assigned, escalated, overdue, late start, …

    Partitioned by month of `created_at` (backend/partitions.py), so its unique keys must hold
    `created_at`: the dedupe key's uniqueness lives in notification_keys instead."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_change_seq", "user_id", "change_seq"),
        # Delivery reads only what has not gone out yet.
        Index("ix_notifications_undelivered", "id", postgresql_where=text("delivered_at IS NULL")),
        {"postgresql_partition_by": "RANGE (created_at)"},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    event: Mapped[str] = mapped_column(String(20), nullable=False)
    followup_id: Mapped[int | None] = mapped_column(ForeignKey("followups.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task_keys.id", ondelete="CASCADE"))
    # One notification per (person, event, subject, step): re-running a job notifies nobody twice
    # (the key is claimed in notification_keys by the statement that inserts the notification).
    dedupe_key: Mapped[str] = mapped_column(String(160), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_via: Mapped[str | None] = mapped_column(String(32))

    __mapper_args__ = {"primary_key": [id]}


class NotificationKey(db.Model):
    """Every dedupe key a notification was made under, unique across all months: a unique key
    of the partitioned notifications table would be unique within a month only."""

    __tablename__ = "notification_keys"

    dedupe_key: Mapped[str] = mapped_column(String(160), primary_key=True)


class CareRiskEvent(db.Model):
    """A fall, choking, self-harm, wandering or other care-risk event reported from the field.

    Two or more in 30 days make an elder's capability level one worse (GB/T 42195), so they
    demand an immediate reassessment.
    """

    __tablename__ = "care_risk_events"
    __table_args__ = (Index("ix_care_risk_events_elder_on", "elder_id", "occurred_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    elder_id: Mapped[int] = mapped_column(ForeignKey("elders.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    occurred_on: Mapped[date] = mapped_column(Date, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    visit_item_id: Mapped[str | None] = mapped_column(ForeignKey("visit_item_ids.id", ondelete="SET NULL"))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
