"""Regions as a tree: district (区/县) → street/town (街道/乡镇) → community/village (社区/村)."""

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.columns import TimestampMixin
from backend.extensions import db

LEVELS = ("district", "street", "community")
PARENT_LEVEL = {"district": None, "street": "district", "community": "street"}


class Region(TimestampMixin, db.Model):
    __tablename__ = "regions"
    __table_args__ = (UniqueConstraint("parent_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    level: Mapped[str] = mapped_column(String(16), nullable=False)
    # 12-digit statistical division code (统计用区划代码), when known.
    code: Mapped[str | None] = mapped_column(String(12), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"), index=True)
    # Materialised path "/1/4/9/": a subtree is one indexed prefix match.
    path: Mapped[str] = mapped_column(String(255), nullable=False, default="", index=True)

    parent: Mapped["Region | None"] = relationship(remote_side=[id])

    def __repr__(self):
        return f"<Region {self.id} {self.level} {self.name}>"
