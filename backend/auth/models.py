"""Refresh tokens (hashed, rotated, bound to a device) and login throttling state."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.columns import UTCDateTime, utcnow
from backend.extensions import db


class RefreshToken(db.Model):
    """A family (every token descended from one login) is revoked when any of its rows is:
    revocation marks the rows it finds, and a row that a refresh racing it adds afterwards still
    belongs to a revoked family."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (
        # Every authenticated request asks whether its access token's family is revoked; only
        # revoked rows are indexed, so the usual answer (no) is one probe of a small index.
        Index("ix_refresh_tokens_revoked_family_id", "family_id", postgresql_where=text("revoked_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    # Every token descends from one login; reuse of a rotated token revokes the whole family.
    family_id: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    device_id: Mapped[str] = mapped_column(String(128), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginThrottle(db.Model):
    """Failed logins per key ("account:<name>", "pair:<addr>/<name>" or "address:<addr>"), shared
    by every server process. backend/auth/throttle.py says how each kind counts."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
