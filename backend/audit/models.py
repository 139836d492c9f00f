"""The audit trail: one hash-chained entry per committed write transaction."""

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.columns import UTCDateTime
from backend.extensions import db

# An entry holding a read of personal data (backend/audit/reads.py). Literal SQL, the same in the
# partial index and in the query, so the planner sees that the index answers it.
READ_ACTIONS = ("read_id_card", "read_media", "export")
READS_SQL = "(" + " OR ".join(f"""audit_trail.changes::jsonb @> '[{{"action": "{action}"}}]'"""
                              for action in READ_ACTIONS) + ")"
READS = text(READS_SQL)


class AuditEntry(db.Model):
    """Who wrote what, when, from which device or command. Never updated nor deleted by the app.

    `hash` = SHA-256(prev_hash + canonical JSON of the entry), so editing or deleting any entry
    breaks the chain from there on; `seq` has no gaps, so a deleted entry is noticed too.
    Partitioned by month of `at` (backend/partitions.py): the primary key holds `at`, as a
    partitioned table's must; entries are still known, and chained, by `seq` alone.
    """

    __tablename__ = "audit_trail"
    __table_args__ = (
        # The console lists reads of personal data newest first out of a trail of every write.
        Index("ix_audit_trail_reads", "seq", postgresql_where=READS),
        {"postgresql_partition_by": "RANGE (at)"},
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    actor: Mapped[str] = mapped_column(String(80), nullable=False)  # "user:12", "job:sweep", "cli:demo"
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    device_id: Mapped[str | None] = mapped_column(String(128))
    source: Mapped[str | None] = mapped_column(String(200))  # "POST /api/v1/sync/push", a command
    changes: Mapped[list] = mapped_column(JSON, nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)

    __mapper_args__ = {"primary_key": [seq]}


class AuditHead(db.Model):
    """The chain's last link, locked by each writer as its last statement before commit."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
