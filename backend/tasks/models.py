"""Visit tasks issued from plans, and the history of their state changes."""

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.changefeed import ChangeTracked
from backend.clock import care_tz
from backend.columns import TimestampMixin, UTCDateTime, utcnow
from backend.elders.models import Elder
from backend.extensions import db
from backend.plans.models import CarePlan
from backend.users.models import User

OPEN_STATUSES = ("scheduled", "in_progress")


def _elder_community(context):
    elder_id = context.get_current_parameters()["elder_id"]
    return context.connection.execute(select(Elder.community_id).where(Elder.id == elder_id)).scalar()


def _plan_provider(context):
    plan_id = context.get_current_parameters().get("care_plan_id")
    if plan_id is None:
        return None
    return context.connection.execute(select(CarePlan.provider_id).where(CarePlan.id == plan_id)).scalar()


def task_window_start(context):
    """The window_start_at of the row's task: visits, task events and items carry a copy, their
    partition key, so every insert path gets it (push's raw SQL writes it itself)."""
    task_id = context.get_current_parameters()["task_id"]
    return context.connection.execute(select(TaskKey.window_start_at).where(TaskKey.id == task_id)).scalar()


class TaskKey(db.Model):
    """Every task's id and month, unpartitioned: what foreign keys into tasks point at.

    tasks is partitioned by window_start_at, and a partitioned table's unique keys must hold the
    partition key, so no foreign key can point at tasks(id) alone. Triggers on tasks
    (migration 0016) insert and delete these rows with the tasks, whatever the insert path.
    """

    __tablename__ = "task_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    window_start_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class SweepFloor(db.Model):
    """One row: no scheduled task starts before `starts_at` (NULL: none is scheduled), so the
    sweep reads only the months from there on. Lowered by a trigger on tasks' inserts (migration
    0020), raised by the sweep job (backend/tasks/sweep.py::advance_floor)."""

    __tablename__ = "sweep_floor"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Task(ChangeTracked, TimestampMixin, db.Model):
    """A visit to make. Partitioned by month of window_start_at (migration 0016): a task never
    changes its window (a trigger refuses it), so the partition a task lives in is fixed."""

    __tablename__ = "tasks"
    __table_args__ = (
        # A source key names one plan slot, whose window it fixes ("care:<item>:r<rev>:<start>"
        # holds the start; a patrol period and revision fix its start; "manual:<uuid>" is unique
        # by itself), and no task's window ever changes: unique with window_start_at (all a
        # partitioned table allows) is then as unique as source_key alone.
        UniqueConstraint("source_key", "window_start_at", name="uq_tasks_source_key"),
        Index("ix_tasks_assignee_window", "assignee_id", "window_start_at"),
        Index("ix_tasks_status_window_end", "status", "window_end_at"),
        Index("ix_tasks_elder_window", "elder_id", "window_start_at"),
        # The visit log pages by (window_start_at, id), narrowed by community or provider. On
        # PostgreSQL the window index also carries the usual filters, so a page of a broad scope
        # is read from the index alone however many rows the filters skip.
        Index("ix_tasks_window_start", "window_start_at", "id",
              postgresql_include=["community_id", "status", "kind", "provider_id", "assignee_id"]),
        Index("ix_tasks_community_window", "community_id", "window_start_at", "id"),
        Index("ix_tasks_provider_window", "provider_id", "window_start_at", "id"),
        # An incremental pull reads one user's changes past their cursor.
        Index("ix_tasks_assignee_change_seq", "assignee_id", "change_seq"),
        # The sweep reads only scheduled tasks past a deadline: partial indexes keep that cheap
        # however many finished tasks the table holds.
        Index("ix_tasks_scheduled_missed_after", "missed_after_at",
              postgresql_where=text("status = 'scheduled'")),
        Index("ix_tasks_scheduled_late_after", "late_after_at",
              postgresql_where=text("status = 'scheduled' AND late_at IS NULL")),
        # Patrol coverage reads the elders of a month's completed patrols: one in seven tasks of a
        # month, read from this index alone instead of the month's whole range of the table.
        Index("ix_tasks_completed_patrols", "window_start_at", postgresql_include=["elder_id"],
              postgresql_where=text("kind = 'patrol' AND status = 'completed'")),
        {"postgresql_partition_by": "RANGE (window_start_at)"},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    service_type: Mapped[str | None] = mapped_column(ForeignKey("service_types.code", ondelete="RESTRICT"))
    elder_id: Mapped[int] = mapped_column(ForeignKey("elders.id", ondelete="RESTRICT"), nullable=False)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    care_plan_id: Mapped[int | None] = mapped_column(ForeignKey("care_plans.id", ondelete="SET NULL"), index=True)
    care_plan_item_id: Mapped[int | None] = mapped_column(ForeignKey("care_plan_items.id", ondelete="SET NULL"))
    patrol_plan_id: Mapped[int | None] = mapped_column(ForeignKey("patrol_plans.id", ondelete="SET NULL"),
                                                       index=True)
    # Copied when the task is made, so the visit log filters and scopes without joins: the elder's
    # community at that time (where the visit takes place) and the care plan's provider (None for
    # patrols). Generation sets both in bulk; any other insert gets them from these defaults.
    community_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"), nullable=False,
                                              default=_elder_community)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id", ondelete="RESTRICT"),
                                                    default=_plan_provider)
    # What makes a generated task unique: its plan slot ("care:<item>:r<rev>:<start>",
    # "patrol:<plan>:r<rev>:<period>") or "manual:<uuid>". Re-running generation cannot duplicate it.
    source_key: Mapped[str] = mapped_column(String(120), nullable=False)
    window_start_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    window_end_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    min_duration_minutes: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="scheduled")
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # Deadlines fixed when the task is made, from its service type: a late-start alert after
    # late_after_at, missed after missed_after_at (offline phones sync late). None: no alert.
    late_after_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    missed_after_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    late_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    elder: Mapped[Elder] = relationship()
    assignee: Mapped[User | None] = relationship()

    # The table's key is (id, window_start_at); id alone names a task (db.session.get(Task, id)).
    __mapper_args__ = {"version_id_col": version, "primary_key": [id]}

    @property
    def window_start_local(self) -> str:
        return self.window_start_at.astimezone(care_tz()).isoformat()

    @property
    def window_end_local(self) -> str:
        return self.window_end_at.astimezone(care_tz()).isoformat()


# task_keys rows come from tasks (by trigger): the metadata's table order says so, so whatever
# deletes tables in reverse order (the tests' cleanup) empties what points at task_keys first.
TaskKey.__table__.add_is_dependent_on(Task.__table__)


class TaskEvent(db.Model):
    """Every state change of a task: from what, to what, when, by whom or by which job.
    Partitioned with its task, by the task's window_start_at."""

    __tablename__ = "task_events"
    __table_args__ = ({"postgresql_partition_by": "RANGE (window_start_at)"},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task_keys.id", ondelete="CASCADE"), nullable=False, index=True)
    window_start_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True, default=task_window_start)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16), nullable=False)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Who or what, when not a user: "generator", "sweep", "sync", "cli", …
    by_system: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)

    __mapper_args__ = {"primary_key": [id]}


class TaskRemoval(ChangeTracked, db.Model):
    """A task leaving a user's phone (reassigned away), so an incremental pull can say so."""

    __tablename__ = "task_removals"
    __table_args__ = (Index("ix_task_removals_user_change_seq", "user_id", "change_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task_keys.id", ondelete="CASCADE"), nullable=False)
    reason: Mapped[str] = mapped_column(String(32), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    task: Mapped[Task] = relationship(primaryjoin="foreign(TaskRemoval.task_id) == Task.id")
