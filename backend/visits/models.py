"""Evidence pushed by phones: every accepted item, the visit each task adds up to, and quarantine.

`visit_items` is keyed by the phone's item UUID, claimed in `visit_item_ids` in the statement that
stores the item: that table's primary key is what makes a push exactly once, across processes and
hosts. Items are never updated after they are accepted; the derived picture of a visit (times,
duration, flags) lives in `visits`, one row per task. Items and visits are partitioned by month
with their task (its window_start_at, copied), so they have (id, window_start_at) keys.
"""

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.columns import TimestampMixin, UTCDateTime
from backend.extensions import db
from backend.tasks.models import Task, task_window_start


class VisitItemId(db.Model):
    """Every stored item's UUID, unpartitioned: one primary key across all months, so an item
    is stored once (push_sql.INSERT_ITEMS claims the id here first), and what foreign keys into
    items point at. Deleting the claim deletes the item."""

    __tablename__ = "visit_item_ids"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    window_start_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class VisitKey(db.Model):
    """Every visit's id and month, unpartitioned, kept by triggers on visits (migration 0016):
    what foreign keys into visits point at."""

    __tablename__ = "visit_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    window_start_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class VisitItem(db.Model):
    __tablename__ = "visit_items"
    __table_args__ = (
        Index("ix_visit_items_device_seq", "device_id", "seq"),
        Index("ix_visit_items_task_type", "task_id", "type"),
        {"postgresql_partition_by": "RANGE (window_start_at)"},
    )

    # the phone's UUID, canonical form
    id: Mapped[str] = mapped_column(ForeignKey("visit_item_ids.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True)
    device_id: Mapped[str] = mapped_column(String(128), nullable=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    task_id: Mapped[int] = mapped_column(ForeignKey("task_keys.id", ondelete="RESTRICT"), nullable=False)
    # The device clock as reported, the same moved onto the server clock, and receipt time.
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    captured_at_corrected: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    clock_offset_seconds: Mapped[float] = mapped_column(Float, nullable=False)
    qr_flag: Mapped[str | None] = mapped_column(String(32))
    plate_id: Mapped[int | None] = mapped_column(Integer)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[float | None] = mapped_column(Float)
    flags: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    # SHA-256 of the canonical item JSON: a resend matches it, a reused UUID does not.
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    payload: Mapped[dict] = mapped_column(JSON, nullable=False)
    window_start_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True, default=task_window_start)

    __mapper_args__ = {"primary_key": [id]}


class Visit(TimestampMixin, db.Model):
    """What a task's evidence adds up to: when it began and ended, for how long, and its flags."""

    __tablename__ = "visits"
    __table_args__ = (
        # Patrol coverage counts an elder only when a patrol saw them: the month's (or quarter's)
        # completed patrols are matched against this small index, never against every visit.
        Index("ix_visits_seen_patrols", "task_id",
              postgresql_where=text("patrol_outcome IN ('seen_well', 'seen_needs_help')")),
        # The cross-check job's queue (backend/visits/crosscheck.py), and its neighbour lookups.
        Index("ix_visits_uncrosschecked", "id", postgresql_where=text("crosschecked_at IS NULL")),
        Index("ix_visits_user_started", "user_id", "started_at"),
        # One visit per task: the task fixes window_start_at, so this is as unique as task_id alone.
        UniqueConstraint("task_id", "window_start_at", name="uq_visits_task_id"),
        {"postgresql_partition_by": "RANGE (window_start_at)"},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task_keys.id", ondelete="RESTRICT"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True)
    check_in_item_id: Mapped[str | None] = mapped_column(ForeignKey("visit_item_ids.id", ondelete="RESTRICT"))
    check_out_item_id: Mapped[str | None] = mapped_column(ForeignKey("visit_item_ids.id", ondelete="RESTRICT"))
    report_item_id: Mapped[str | None] = mapped_column(ForeignKey("visit_item_ids.id", ondelete="RESTRICT"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # corrected
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # corrected
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    is_verified: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    max_distance_m: Mapped[float | None] = mapped_column(Float)
    satisfaction: Mapped[int | None] = mapped_column(SmallInteger)
    patrol_outcome: Mapped[str | None] = mapped_column(String(32))
    patrol_mode: Mapped[str | None] = mapped_column(String(8))
    # The visit completed a task already marked missed (flag after_missed), as the reports' late_synced
    # counts it; an upload a day after capture is the flag late_upload only. Named before the two parted.
    is_late_sync: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    flags: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    needs_review: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, index=True)
    # When the visit was last checked against its caregiver's other visits (overlapping_visit,
    # impossible_travel); NULL until then and again whenever a push changes the visit.
    crosschecked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    window_start_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True, default=task_window_start)

    task: Mapped[Task] = relationship(primaryjoin="foreign(Visit.task_id) == Task.id")

    __mapper_args__ = {"primary_key": [id]}


# visit_keys rows come from visits (by trigger), as task_keys from tasks (backend/tasks/models.py).
VisitKey.__table__.add_is_dependent_on(Visit.__table__)


class QuarantinedItem(db.Model):
    """A pushed item that could not be evidence at all; kept for audit, never applied."""

    __tablename__ = "quarantined_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_uuid: Mapped[str | None] = mapped_column(String(64), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True)
    device_id: Mapped[str] = mapped_column(String(128), nullable=False)
    seq: Mapped[int | None] = mapped_column(BigInteger)
    task_id: Mapped[int | None] = mapped_column(Integer, index=True)  # a visit's history lists them
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    payload: Mapped[dict | list | str | None] = mapped_column(JSON)


class PushReceipt(db.Model):
    """One row per push request: what arrived, from which device, and what it was answered.

    Duplicates write no evidence, but the fact that a phone resent them is history auditors
    want to see, so each receipt lists the ids it answered `duplicate` and `rejected`.
    """

    __tablename__ = "push_receipts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True)
    device_id: Mapped[str] = mapped_column(String(128), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    device_time: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    accepted: Mapped[int] = mapped_column(Integer, nullable=False)
    duplicates: Mapped[int] = mapped_column(Integer, nullable=False)
    rejected: Mapped[int] = mapped_column(Integer, nullable=False)
    duplicate_ids: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    task_ids: Mapped[list] = mapped_column(JSON, nullable=False, default=list)


class DeviceSeqState(db.Model):
    """The sequence numbers a device's items reached the server with (as evidence or in
    quarantine), folded into inclusive runs [[low, high], …]: a push reports the device's gaps
    from this one row instead of reading the device's whole history."""

    __tablename__ = "device_seq_states"

    device_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    runs: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
