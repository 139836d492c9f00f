"""Regions as a tree: city (市) → district/county (区/县) → street/town (街道/乡镇) → community/village (社区/村).

A district may also stand alone, without a city above it: the tree began with districts, and a
district bureau that is not under a city in CareRounds keeps working as before.
"""

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.columns import TimestampMixin
from backend.extensions import db

LEVELS = ("city", "district", "street", "community")
# The level a region's parent has; a district's parent, when it has one, is a city.
PARENT_LEVEL = {"city": None, "district": "city", "street": "district", "community": "street"}
# Levels that may have no parent: cities, and districts not (yet) under a city.
ROOT_LEVELS = ("city", "district")


class Region(TimestampMixin, db.Model):
    __tablename__ = "regions"
    __table_args__ = (
        UniqueConstraint("parent_id", "name"),
        CheckConstraint("level IN ('city', 'district', 'street', 'community')", name="level_known"),
        CheckConstraint("code ~ '^[0-9]{12}$'", name="code_twelve_digits"),
        CheckConstraint("level <> 'city' OR parent_id IS NULL", name="city_has_no_parent"),
        CheckConstraint("level IN ('city', 'district') OR parent_id IS NOT NULL", name="parent_unless_root"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    level: Mapped[str] = mapped_column(String(16), nullable=False)
    # 12-digit statistical division code (统计用区划代码), when known; codes.py checks its shape.
    code: Mapped[str | None] = mapped_column(String(12), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"), index=True)
    # Materialised path "/1/4/9/": a subtree is one indexed prefix match.
    path: Mapped[str] = mapped_column(String(255), nullable=False, default="", index=True)

    parent: Mapped["Region | None"] = relationship(remote_side=[id])

    def __repr__(self):
        return f"<Region {self.id} {self.level} {self.name}>"
