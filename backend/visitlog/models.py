"""Exports of the visit log: who took which filtered view, in which format, and how many rows."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.columns import UTCDateTime
from backend.extensions import db


class ExportLog(db.Model):
    """Written when an export starts; `row_count` and `finished_at` stay empty if it never ended."""

    __tablename__ = "export_logs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    format: Mapped[str] = mapped_column(String(8), nullable=False)
    filters: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    row_count: Mapped[int | None] = mapped_column(Integer)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
