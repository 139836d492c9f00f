"""People who log in: admins, supervisors, caregivers and community workers."""

from sqlalchemy import Boolean, Column, ForeignKey, Integer, SmallInteger, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.columns import TimestampMixin
from backend.extensions import db
from backend.regions.models import Region

user_communities = Table(
    "user_communities",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("region_id", ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True),
)


class User(TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    display_name: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    phone: Mapped[str | None] = mapped_column(String(32))
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Supervisors: the root of the region subtree they oversee.
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"), index=True)
    # Caregivers: their employer, certificate (养老护理员职业技能等级证书) and skill level
    # (1 = 五级/初级工 … 5 = 一级/高级技师).
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id", ondelete="RESTRICT"), index=True)
    certificate_no: Mapped[str | None] = mapped_column(String(64))
    skill_level: Mapped[int | None] = mapped_column(SmallInteger)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    region: Mapped[Region | None] = relationship(foreign_keys=[region_id])
    communities: Mapped[list[Region]] = relationship(secondary=user_communities, order_by=Region.id)

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self):
        return f"<User {self.id} {self.username} {self.role}>"
