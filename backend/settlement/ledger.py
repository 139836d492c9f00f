"""A provider's month as statement lines: the month's own visits (payable, held, rejected) and
what changed since on earlier issued statements (held lines decided, adjustments).

The draft is computed on every read and never stored; issuing (lifecycle.py) stores exactly these
lines. A visit's state comes from backend/reviews/verification.py, so a review decision means
here what it means in the visit log and the monthly report.
"""

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from psycopg.rows import namedtuple_row
from sqlalchemy import Date, Integer, and_, case, exists, func, select

from backend.clock import care_tz
from backend.elders.models import Assessment, Elder, ElderCategory
from backend.extensions import db
from backend.followups.models import Followup
from backend.reviews.sampling import month_bounds
from backend.reviews.verification import CURRENT, joins_current
from backend.settlement.models import FundingRule, Statement, StatementLine
from backend.settlement.pricing import PriceBook, copay_table, government_percent
from backend.tasks.models import Task
from backend.visits.models import Visit

# The fields of a line, in the order its hash reads them.
LINE_FIELDS = ("line_no", "state", "task_id", "visit_id", "elder_id", "care_plan_id", "service_type", "served_on",
               "funding", "price_id", "unit", "units", "minutes", "amount_fen", "government_fen", "copay_fen",
               "reason", "adjusts_line_id")
LINE_STATES = ("payable", "held", "rejected", "adjustment")
# Follow-ups whose outcome can still change a visit's decision.
DECIDING_FOLLOWUPS = ("unverified_visit",)


@dataclass
class Draft:
    provider_id: int
    month: str
    lines: list[dict] = field(default_factory=list)
    caps: dict = field(default_factory=dict)  # care_plan_id → usage against the cap


def compute(provider_id: int, month: str) -> Draft:
    """The lines of `provider_id`'s statement for `month` ("YYYY-MM") as of now."""
    draft = Draft(provider_id, month)
    draft.lines = list(iter_lines(provider_id, month, draft.caps))
    return draft


def iter_lines(provider_id: int, month: str, caps: dict):
    """The statement's lines one at a time, numbered (issuing copies them as they come); `caps`
    collects each capped plan's usage. Every query runs here, before the lines are iterated:
    issuing copies them into the same connection, which can run nothing else while a COPY is open."""
    start, end = month_bounds(month)
    ctx = _Context(provider_id)
    own = _visit_rows(and_(Task.provider_id == provider_id, Task.window_start_at >= start, Task.window_start_at < end))
    carried = _carried(ctx, provider_id, month)

    def lines():
        month_fees: set = set()
        no = 0
        for row in own:
            line = ctx.outcome(row, month_fees)
            ctx.fund(line, row, caps)
            no += 1
            line["line_no"] = no
            yield line
        for line in carried:
            no += 1
            line["line_no"] = no
            yield line
    return lines()


def _visit_rows(where, task_ids=None):
    """The visits with everything their lines need, in one statement: the current decision, an
    open follow-up, the plan's funding rule, and (for co-paid plans only) the elder's categories
    and latest assessment level."""
    followup_open = exists().where(Followup.task_id == Task.id, Followup.status != "resolved",
                                   Followup.kind.in_(DECIDING_FOLLOWUPS))
    copaid = FundingRule.kind == "copay"
    # Whole minutes from the corrected check-in to check-out, and the scheduled window's, worked
    # out by the database: no datetime is built in Python for a line.
    actual = func.coalesce(func.greatest(func.floor(func.extract("epoch", Visit.ended_at - Visit.started_at) / 60),
                                         0), 0).cast(Integer)
    scheduled = func.floor(func.extract("epoch", Task.window_end_at - Task.window_start_at) / 60).cast(Integer)
    served_on = func.timezone(current_app.config["CARE_TIMEZONE"], Task.window_start_at).cast(Date)
    categories = (select(func.array_agg(ElderCategory.category)).where(ElderCategory.elder_id == Task.elder_id)
                  .scalar_subquery())
    level = (select(Assessment.level).where(Assessment.elder_id == Task.elder_id)
             .order_by(Assessment.assessed_on.desc(), Assessment.id.desc()).limit(1).scalar_subquery())
    query = (select(Task.id.label("task_id"), Task.elder_id, Task.care_plan_id, Task.service_type,
                    served_on.label("served_on"), actual.label("actual_minutes"),
                    func.least(actual, scheduled).label("minutes"), Task.min_duration_minutes,
                    Visit.id.label("visit_id"), Visit.is_verified,
                    Visit.needs_review, CURRENT.decision, CURRENT.reason_code, followup_open.label("followup_open"),
                    FundingRule.kind.label("funding"), FundingRule.monthly_cap_fen, FundingRule.monthly_cap_minutes,
                    case((copaid, categories)).label("categories"), case((copaid, level)).label("level"))
             .join(Visit, and_(Visit.task_id == Task.id, Visit.window_start_at == Task.window_start_at))
             .outerjoin(CURRENT, joins_current(Task.id))
             .outerjoin(FundingRule, FundingRule.care_plan_id == Task.care_plan_id)
             .where(Task.kind == "service", Task.status == "completed", where)
             .order_by(Task.window_start_at, Task.id))
    if task_ids is not None:
        query = query.where(Task.id.in_(task_ids))
    # Straight through the driver (rows built in C, as tuples with names): a month's statement
    # has tens of thousands of rows, and SQLAlchemy's per-row result processing cost more than
    # the query.
    compiled = query.compile(dialect=db.engine.dialect, compile_kwargs={"render_postcompile": True})
    cursor = db.session.connection().connection.driver_connection.cursor(row_factory=namedtuple_row)
    cursor.execute(str(compiled), compiled.params)
    return cursor.fetchall()


class _Context:
    """What outcomes need beyond a visit's row, read once: prices and the co-pay table."""

    def __init__(self, provider_id: int):
        self.prices = PriceBook(provider_id)
        self.table = copay_table()
        self.too_short = current_app.config["SETTLEMENT_PAY_TOO_SHORT"]
        self.tz = care_tz()
        self._prices: dict = {}

    def price(self, service_type: str, day: date):
        key = (service_type, day)
        if key not in self._prices:
            price = self.prices.at(service_type, day)
            self._prices[key] = None if price is None else (price.id, price.unit, price.price_fen,
                                                             price.rounding_minutes)
        return self._prices[key]

    def outcome(self, row, month_fees: set | None) -> dict:
        """The visit's line before funding: state, units and amount."""
        served_on = row.served_on
        line = {"state": "payable", "task_id": row.task_id, "visit_id": row.visit_id, "elder_id": row.elder_id,
                "care_plan_id": row.care_plan_id, "service_type": row.service_type, "served_on": served_on,
                "funding": None, "price_id": None, "unit": None, "units": 0, "minutes": row.minutes,
                "amount_fen": 0, "government_fen": 0, "copay_fen": 0, "reason": None, "adjusts_line_id": None}
        if row.decision == "rejected":
            return {**line, "state": "rejected", "reason": row.reason_code}
        if row.followup_open:
            return {**line, "state": "held", "reason": "open_followup"}
        if row.decision != "approved" and (row.needs_review or not row.is_verified):
            return {**line, "state": "held", "reason": "awaiting_review"}
        if row.actual_minutes < (row.min_duration_minutes or 0):
            if self.too_short == "none":
                return {**line, "state": "rejected", "reason": "too_short"}
            line["reason"] = "too_short"
        price = self.price(row.service_type, served_on)
        if price is None:
            return {**line, "reason": "no_price"}
        price_id, unit, price_fen, rounding = price
        line.update(price_id=price_id, unit=unit)
        if unit == "visit":
            line["units"], line["amount_fen"] = 1, price_fen
        elif unit == "hour":
            units = line["minutes"] // rounding
            line["units"] = units
            line["amount_fen"] = _half_up(price_fen * units * rounding, 60)
        else:  # month: a bed's base fee, carried by the month's first payable visit of the plan and type
            key = (row.care_plan_id, row.service_type)
            if month_fees is not None and key not in month_fees:
                month_fees.add(key)
                line["units"], line["amount_fen"] = 1, price_fen
        return line

    def fund(self, line: dict, row, caps: dict | None) -> None:
        """Split the amount into the government's share and the elder's, within the plan's monthly cap."""
        kind = row.funding or "self_pay"
        line["funding"] = kind
        amount = line["amount_fen"]
        if kind == "government":
            government = amount
        elif kind == "copay":
            government = amount * government_percent(row.categories or [], row.level, self.table) // 100
        else:
            government = 0
        if caps is not None and line["state"] == "payable" and kind != "self_pay":
            government = _within_cap(line, government, row, caps)
        line["government_fen"], line["copay_fen"] = government, amount - government


def _within_cap(line: dict, government: int, rule, caps: dict) -> int:
    """`rule`: the visit's row, with its plan's monthly caps."""
    if rule.monthly_cap_fen is None and rule.monthly_cap_minutes is None:
        return government
    usage = caps.setdefault(rule.care_plan_id, {
        "care_plan_id": rule.care_plan_id, "elder_id": line["elder_id"], "cap_fen": rule.monthly_cap_fen,
        "cap_minutes": rule.monthly_cap_minutes, "government_fen": 0, "minutes": 0})
    if rule.monthly_cap_minutes is not None:
        left = max(rule.monthly_cap_minutes - usage["minutes"], 0)
        if line["minutes"] > left:
            government = government * left // line["minutes"] if line["minutes"] else 0
        usage["minutes"] += min(line["minutes"], left)
    if rule.monthly_cap_fen is not None:
        government = min(government, max(rule.monthly_cap_fen - usage["government_fen"], 0))
    usage["government_fen"] += government
    return government


def _half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def _carried(ctx: _Context, provider_id: int, month: str) -> list[dict]:
    """Lines about visits already on an earlier issued statement whose outcome changed since:
    held lines now decided (or still held), clawbacks of paid visits now rejected, releases of
    rejected visits now approved."""
    prior = db.session.execute(
        select(StatementLine.id, StatementLine.task_id, StatementLine.state, StatementLine.reason,
               StatementLine.amount_fen, StatementLine.government_fen, StatementLine.copay_fen)
        .join(Statement, Statement.id == StatementLine.statement_id)
        .where(Statement.provider_id == provider_id, Statement.status != "superseded", Statement.month < month)
        .order_by(Statement.month, StatementLine.line_no)).all()
    settled: dict[int, dict] = {}
    for line in prior:
        entry = settled.setdefault(line.task_id, {"amount": 0, "government": 0, "copay": 0})
        entry["amount"] += line.amount_fen
        entry["government"] += line.government_fen
        entry["copay"] += line.copay_fen
        if line.state == "adjustment":
            entry["status"] = "paid" if line.reason == "release" else "unpaid"
        else:
            entry["status"] = {"payable": "paid", "held": "held", "rejected": "unpaid"}[line.state]
            entry["line_id"] = line.id
        entry["last_id"] = line.id
    if not settled:
        return []
    lines = []
    rows = _visit_rows(Task.provider_id == provider_id, task_ids=list(settled))
    for row in rows:
        was = settled[row.task_id]
        now = ctx.outcome(row, None)
        ctx.fund(now, row, None)
        if was["status"] == "held":
            lines.append({**now, "adjusts_line_id": was["last_id"]})
        elif was["status"] == "paid" and now["state"] == "rejected":
            lines.append({**now, "state": "adjustment", "reason": "clawback", "adjusts_line_id": was["last_id"],
                          "amount_fen": -was["amount"], "government_fen": -was["government"],
                          "copay_fen": -was["copay"]})
        elif was["status"] == "unpaid" and now["state"] == "payable":
            lines.append({**now, "state": "adjustment", "reason": "release", "adjusts_line_id": was["last_id"]})
    return lines


# ---------------------------------------------------------------- totals and hash

class Tally:
    """Totals (per state, funding share and service type) and the hash of lines added one by one."""

    def __init__(self, provider_id: int, month: str, seq: int):
        self.digest = hashlib.sha256(json.dumps({"provider_id": provider_id, "month": month, "seq": seq},
                                                sort_keys=True).encode())
        self.sums = {"total_fen": 0, "government_fen": 0, "copay_fen": 0}
        self.count = 0
        self.by_state = {state: {"lines": 0, "amount_fen": 0} for state in LINE_STATES}
        self.by_type = defaultdict(lambda: {"lines": 0, "units": 0, "minutes": 0, "amount_fen": 0, "government_fen": 0,
                                            "copay_fen": 0})
        self.by_funding = defaultdict(lambda: {"lines": 0, "amount_fen": 0, "government_fen": 0, "copay_fen": 0})

    def add(self, line) -> None:
        get = line.get if isinstance(line, dict) else line._mapping.get
        # Fields as text joined by a unit separator (none of them can hold one), a line per line.
        self.digest.update(("\x1f".join("" if (value := get(name)) is None else str(value) for name in LINE_FIELDS)
                            + "\n").encode())
        self.count += 1
        amount, government, copay = get("amount_fen"), get("government_fen"), get("copay_fen")
        self.sums["total_fen"] += amount
        self.sums["government_fen"] += government
        self.sums["copay_fen"] += copay
        state = get("state")
        self.by_state[state]["lines"] += 1
        self.by_state[state]["amount_fen"] += amount
        if state in ("payable", "adjustment"):
            kind, funding = self.by_type[get("service_type")], self.by_funding[get("funding")]
            kind["lines"] += 1
            kind["units"] += get("units")
            kind["minutes"] += get("minutes")
            funding["lines"] += 1
            for key, value in (("amount_fen", amount), ("government_fen", government), ("copay_fen", copay)):
                kind[key] += value
                funding[key] += value

    def totals(self) -> dict:
        return {**self.sums,
                "by_state": [{"state": state, **value} for state, value in self.by_state.items()],
                "by_service_type": [{"service_type": code, **value} for code, value in sorted(self.by_type.items())],
                "by_funding": [{"funding": kind, **value} for kind, value in sorted(self.by_funding.items())]}

    def hexdigest(self) -> str:
        return self.digest.hexdigest()


def totals(lines) -> dict:
    """Totals of the lines, per state, per funding share and per service type."""
    tally = Tally(0, "", 0)
    for line in lines:
        tally.add(line)
    return tally.totals()


def statement_hash(provider_id: int, month: str, seq: int, lines) -> str:
    """SHA-256 over the statement's header and every line's fields, in order."""
    tally = Tally(provider_id, month, seq)
    for line in lines:
        tally.add(line)
    return tally.hexdigest()


def elder_names(elder_ids) -> dict[int, str]:
    ids = list(set(elder_ids))
    if not ids:
        return {}
    return dict(db.session.execute(select(Elder.id, Elder.name).where(Elder.id.in_(ids))).all())
