"""Elders who receive services, their categories and their capability assessments."""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.changefeed import ChangeTracked
from backend.columns import TimestampMixin, UTCDateTime, utcnow
from backend.elders.assessment import LEVEL_NAMES
from backend.extensions import db
from backend.regions.models import Region


class ElderCategory(db.Model):
    __tablename__ = "elder_categories"

    elder_id: Mapped[int] = mapped_column(ForeignKey("elders.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class Elder(ChangeTracked, TimestampMixin, db.Model):
    __tablename__ = "elders"
    # A number is unique within its kind of document: a resident ID number is also a well-formed
    # passport number, and two documents of different kinds may carry the same one.
    __table_args__ = (UniqueConstraint("id_document_type", "id_card_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    gender: Mapped[str] = mapped_column(String(8), nullable=False)
    birth_on: Mapped[date] = mapped_column(Date, nullable=False)
    # The number of the identity document id_document_type names (schemas.vocab.ID_DOCUMENT_TYPES).
    id_document_type: Mapped[str] = mapped_column(String(32), nullable=False, default="resident_id",
                                                  server_default="resident_id")
    id_card_no: Mapped[str | None] = mapped_column(String(18))
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    community_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"), nullable=False,
                                              index=True)
    risk_tier: Mapped[str] = mapped_column(String(16), nullable=False, default="general")
    # A supervisor's override of the suggested tier (backend/elders/risk.py): why, by whom, when.
    # All None while the tier is as registered; the audit trail keeps every earlier override.
    risk_tier_reason: Mapped[str | None] = mapped_column(Text)
    risk_tier_set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    risk_tier_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    care_notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    emergency_contacts: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Where the elder stands in the register (schemas.vocab.ELDER_STATUSES): only a confirmed status
    # report changes it (backend/register), and is_active follows it. `suspended` is a hospital stay
    # until returns_on, when the elder's plans resume by themselves.
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    returns_on: Mapped[date | None] = mapped_column(Date)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    community: Mapped[Region] = relationship()
    category_rows: Mapped[list[ElderCategory]] = relationship(
        cascade="all, delete-orphan", order_by=ElderCategory.category, lazy="selectin"
    )
    assessments: Mapped[list["Assessment"]] = relationship(
        back_populates="elder", order_by="Assessment.assessed_on.desc(), Assessment.id.desc()",
        cascade="all, delete-orphan", lazy="selectin",
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def categories(self) -> list[str]:
        return [row.category for row in self.category_rows]

    @categories.setter
    def categories(self, values):
        wanted = list(dict.fromkeys(values))
        keep = [row for row in self.category_rows if row.category in wanted]
        have = {row.category for row in keep}
        self.category_rows = keep + [ElderCategory(category=c) for c in wanted if c not in have]

    @property
    def latest_assessment(self) -> "Assessment | None":
        return self.assessments[0] if self.assessments else None


class Assessment(db.Model):
    """A GB/T 42195-2022 capability assessment; total and level are computed by the server."""

    __tablename__ = "assessments"
    __table_args__ = (
        CheckConstraint("self_care BETWEEN 0 AND 32", name="self_care_range"),
        CheckConstraint("motion BETWEEN 0 AND 15", name="motion_range"),
        CheckConstraint("mental BETWEEN 0 AND 28", name="mental_range"),
        CheckConstraint("perception BETWEEN 0 AND 15", name="perception_range"),
        CheckConstraint("level BETWEEN 0 AND 4", name="level_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    elder_id: Mapped[int] = mapped_column(ForeignKey("elders.id", ondelete="CASCADE"), nullable=False, index=True)
    assessed_on: Mapped[date] = mapped_column(Date, nullable=False)
    self_care: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    motion: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    mental: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    perception: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    total: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    is_coma: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    has_dementia: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    care_risk_events_30d: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)
    level: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    assessor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    elder: Mapped[Elder] = relationship(back_populates="assessments")

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES[self.level]
