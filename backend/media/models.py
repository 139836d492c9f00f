"""Media: signature images and photos, held once by their content hash, and the tasks using them.

The bytes live in files under the media folder (backend/media/storage.py), named by hash; a row
here says what a file is and who brought it. One image may serve several tasks (a second upload
of the same bytes for another task only adds the link), so the links are rows of their own. Both
point at tasks with RESTRICT, as visit items do: media are kept as long as the visit they prove.
"""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.columns import UTCDateTime
from backend.extensions import db


class Media(db.Model):
    __tablename__ = "media"
    __table_args__ = (
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
        CheckConstraint("content_type IN ('image/png', 'image/jpeg', 'image/webp')", name="content_type_known"),
    )

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(20), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False,
                                                index=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class MediaTask(db.Model):
    """An image referenced by a task: who linked it (uploaded it for this task) and when."""

    __tablename__ = "media_tasks"

    sha256: Mapped[str] = mapped_column(ForeignKey("media.sha256", ondelete="RESTRICT"), primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task_keys.id", ondelete="RESTRICT"), primary_key=True,
                                         index=True)
    linked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
