"""Service types (10+N), care plans for family elder-care beds, and patrol plans."""

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.columns import TimestampMixin, UTCDateTime, utcnow
from backend.elders.models import Elder
from backend.extensions import db
from backend.users.models import User

# The national "10+N" list; admins add the N.
BUILTIN_SERVICE_TYPES = (
    ("meal", "助餐", "Meals", 20),
    ("bathing", "助浴", "Bathing", 30),
    ("cleaning", "助洁", "Cleaning", 45),
    ("medical", "助医", "Medical aid", 20),
    ("emergency", "助急", "Emergency aid", 10),
    ("mobility", "助行", "Mobility", 30),
    ("shopping", "助购", "Shopping", 30),
    ("companionship", "助聊", "Companionship", 30),
    ("recreation", "助乐", "Recreation", 30),
    ("learning", "助学", "Learning", 30),
)


class ServiceType(db.Model):
    __tablename__ = "service_types"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(50), nullable=False)
    name_en: Mapped[str] = mapped_column(String(80), nullable=False)
    is_builtin: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    default_min_minutes: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=30)
    # Lateness rules used by the sweep: alert this long after the window opens, mark missed this
    # long after it closes (offline phones sync late).
    late_start_minutes: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=30)
    missed_grace_minutes: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=120)


class CarePlan(TimestampMixin, db.Model):
    """A family elder-care bed (家庭养老床位) agreement: a package of recurring services."""

    __tablename__ = "care_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    elder_id: Mapped[int] = mapped_column(ForeignKey("elders.id", ondelete="RESTRICT"), nullable=False, index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="RESTRICT"), nullable=False,
                                             index=True)
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    # Each edit starts a new revision; tasks are keyed by revision so the new schedule can
    # replace future, unstarted tasks without colliding with them.
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    revised_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    elder: Mapped[Elder] = relationship()
    items: Mapped[list["CarePlanItem"]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="CarePlanItem.id", lazy="selectin"
    )

    __mapper_args__ = {"version_id_col": version}


class CarePlanItem(db.Model):
    """One service of a package: its type, recurrence, minimum duration and default assignee.

    recurrence: {"freq": "daily"} | {"freq": "weekly", "weekdays": [2, 5]} |
    {"freq": "monthly", "monthdays": [1, 15]}, plus "start" and "end" as local "HH:MM"
    (an end at or before the start means the window ends the next day).
    """

    __tablename__ = "care_plan_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("care_plans.id", ondelete="CASCADE"), nullable=False, index=True)
    service_type: Mapped[str] = mapped_column(ForeignKey("service_types.code", ondelete="RESTRICT"), nullable=False)
    recurrence: Mapped[dict] = mapped_column(JSON, nullable=False)
    min_duration_minutes: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)

    plan: Mapped[CarePlan] = relationship(back_populates="items")
    assignee: Mapped[User | None] = relationship()


class PatrolPlan(TimestampMixin, db.Model):
    """Regular visiting care (巡访/探访关爱) of an at-risk elder by a community worker."""

    __tablename__ = "patrol_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    elder_id: Mapped[int] = mapped_column(ForeignKey("elders.id", ondelete="RESTRICT"), nullable=False, index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True)
    # None: follow the elder's risk tier; otherwise an explicit tier for this plan.
    tier: Mapped[str | None] = mapped_column(String(16))
    modes: Mapped[list] = mapped_column(JSON, nullable=False, default=lambda: ["door", "phone"])
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    revised_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    elder: Mapped[Elder] = relationship()
    worker: Mapped[User] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def effective_tier(self) -> str:
        return self.tier or self.elder.risk_tier
