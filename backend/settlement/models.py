"""Prices (服务价格/补贴标准), funding rules per care plan, the co-pay share table, and statements
(结算单) with their frozen lines and the provider's disputes.

An issued statement's lines are written once and never changed: later changes land as adjustment
lines on a later statement. `Statement.hash` covers the header, every line and the usage against
the caps, and is recorded
in the audit trail with the statement's insert (see backend/settlement/ledger.py: statement_hash).
"""

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.columns import UTCDateTime, utcnow
from backend.extensions import db

PRICE_UNITS = ("visit", "hour", "month")
FUNDING_KINDS = ("government", "copay", "self_pay")
STATEMENT_STATUSES = ("issued", "confirmed", "disputed", "locked", "superseded")
LINE_STATES = ("payable", "held", "rejected", "adjustment")


class Price(db.Model):
    """The price of one unit of a service type from `effective_on` (to `ends_on`, inclusive),
    for every provider or, with provider_id, under one provider's contract (which wins)."""

    __tablename__ = "prices"
    __table_args__ = (
        CheckConstraint("unit IN ('visit', 'hour', 'month')", name="unit_known"),
        CheckConstraint("price_fen >= 0", name="price_not_negative"),
        CheckConstraint("rounding_minutes BETWEEN 1 AND 60", name="rounding_range"),
        CheckConstraint("ends_on IS NULL OR ends_on >= effective_on", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_type: Mapped[str] = mapped_column(ForeignKey("service_types.code", ondelete="RESTRICT"), nullable=False,
                                              index=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id", ondelete="RESTRICT"))
    unit: Mapped[str] = mapped_column(String(8), nullable=False)
    price_fen: Mapped[int] = mapped_column(Integer, nullable=False)
    # `hour` prices are paid in whole units of this many minutes (15: whole quarter hours).
    rounding_minutes: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=15)
    effective_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class FundingRule(db.Model):
    """Who pays for a care plan's services, and the elder's monthly cap on the government share."""

    __tablename__ = "funding_rules"
    __table_args__ = (
        CheckConstraint("kind IN ('government', 'copay', 'self_pay')", name="kind_known"),
        CheckConstraint("monthly_cap_fen IS NULL OR monthly_cap_fen >= 0", name="cap_fen_not_negative"),
        CheckConstraint("monthly_cap_minutes IS NULL OR monthly_cap_minutes >= 0", name="cap_minutes_not_negative"),
    )

    care_plan_id: Mapped[int] = mapped_column(ForeignKey("care_plans.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    monthly_cap_fen: Mapped[int | None] = mapped_column(Integer)
    monthly_cap_minutes: Mapped[int | None] = mapped_column(Integer)
    # Set when a government or co-pay request was refused and the plan saved as self-pay instead.
    refused_rule: Mapped[str | None] = mapped_column(String(32))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class CopayShare(db.Model):
    """The government's share of a co-paid plan, by elder category and assessment level (NULL:
    any). An elder gets the largest share of every row that matches them."""

    __tablename__ = "copay_shares"
    __table_args__ = (
        CheckConstraint("government_percent BETWEEN 0 AND 100", name="percent_range"),
        CheckConstraint("assessment_level IS NULL OR assessment_level BETWEEN 0 AND 4", name="level_range"),
        Index("uq_copay_shares_category_level", text("coalesce(category, '')"),
              text("coalesce(assessment_level, -1)"), unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str | None] = mapped_column(String(32))
    assessment_level: Mapped[int | None] = mapped_column(SmallInteger)
    government_percent: Mapped[int] = mapped_column(SmallInteger, nullable=False)


class Statement(db.Model):
    """An issued statement (结算单) of a provider's month. A draft is never stored."""

    __tablename__ = "statements"
    __table_args__ = (
        UniqueConstraint("provider_id", "month", "seq"),
        # One statement in force per provider and month; a reissue supersedes the one before.
        Index("uq_statements_in_force", "provider_id", "month", unique=True,
              postgresql_where=text("status <> 'superseded'")),
        CheckConstraint("status IN ('issued', 'confirmed', 'disputed', 'locked', 'superseded')",
                        name="status_known"),
        CheckConstraint("month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'", name="month_format"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="RESTRICT"), nullable=False)
    month: Mapped[str] = mapped_column(String(7), nullable=False)  # "YYYY-MM", care time zone
    seq: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=1)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="issued")
    total_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    government_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    copay_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    line_count: Mapped[int] = mapped_column(Integer, nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("statements.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    disputes: Mapped[list["StatementDispute"]] = relationship(order_by="StatementDispute.id", lazy="selectin")

    __mapper_args__ = {"version_id_col": version}


class StatementLine(db.Model):
    """One frozen line of an issued statement: a visit's outcome, or an adjustment of a line of an
    earlier statement (`adjusts_line_id`)."""

    __tablename__ = "statement_lines"
    __table_args__ = (
        UniqueConstraint("statement_id", "line_no"),
        CheckConstraint("state IN ('payable', 'held', 'rejected', 'adjustment')", name="state_known"),
        CheckConstraint("amount_fen = government_fen + copay_fen", name="shares_add_up"),
        Index("ix_statement_lines_task_id", "task_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id", ondelete="RESTRICT"), nullable=False)
    line_no: Mapped[int] = mapped_column(Integer, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    task_id: Mapped[int] = mapped_column(ForeignKey("task_keys.id", ondelete="RESTRICT"), nullable=False)
    # Copies, not references, beside the task (a line is a frozen record, and a month's lines are
    # copied in at once: each foreign key would be one more check per line).
    visit_id: Mapped[int] = mapped_column(Integer, nullable=False)
    elder_id: Mapped[int] = mapped_column(Integer, nullable=False)
    care_plan_id: Mapped[int | None] = mapped_column(Integer)
    service_type: Mapped[str] = mapped_column(String(32), nullable=False)
    served_on: Mapped[date] = mapped_column(Date, nullable=False)
    funding: Mapped[str] = mapped_column(String(16), nullable=False)
    price_id: Mapped[int | None] = mapped_column(Integer)
    unit: Mapped[str | None] = mapped_column(String(8))
    units: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    government_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    copay_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # Why: the review's reason code (rejected), "awaiting_review"/"open_followup" (held),
    # "clawback"/"release" (adjustment), "too_short", "no_price".
    reason: Mapped[str | None] = mapped_column(String(32))
    adjusts_line_id: Mapped[int | None] = mapped_column(ForeignKey("statement_lines.id", ondelete="RESTRICT"))


class StatementCapUsage(db.Model):
    """An issued statement's record of a plan's usage against its monthly cap for a month of
    service, frozen with its lines and covered by its hash: the statement's own month, and each
    earlier month its adjustments paid into (with what that month's earlier statements used)."""

    __tablename__ = "statement_cap_usage"

    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id", ondelete="RESTRICT"), primary_key=True)
    care_plan_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # the month served, "YYYY-MM"
    elder_id: Mapped[int] = mapped_column(Integer, nullable=False)
    cap_fen: Mapped[int | None] = mapped_column(Integer)
    cap_minutes: Mapped[int | None] = mapped_column(Integer)
    government_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    minutes: Mapped[int] = mapped_column(Integer, nullable=False)


class StatementDispute(db.Model):
    """A provider's dispute of one line, with its reason. The line itself never changes."""

    __tablename__ = "statement_disputes"
    __table_args__ = (UniqueConstraint("statement_id", "line_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id", ondelete="RESTRICT"), nullable=False)
    line_id: Mapped[int] = mapped_column(ForeignKey("statement_lines.id", ondelete="RESTRICT"), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
