"""A provider's month as statement lines: the month's own visits (payable, held, rejected) and
what changed since on earlier issued statements (held lines decided, adjustments).

The draft is computed on every read and never stored; issuing (lifecycle.py) stores exactly these
lines, and the usage against each capped plan's monthly cap. A visit's state comes from
backend/reviews/verification.py, so a review decision means here what it means in the visit log
and the monthly report.

Caps and month fees belong to the month a visit was served in, whichever statement pays it: a
held visit released a month later, or a release of a rejected one, uses what its own month's cap
has left after every line already issued about that month (clawbacks give back what they take),
so that no month is ever paid past its cap. A bed's month fee is paid once per plan, service type
and month of service, by the first of its visits paid, on time or later.
"""

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from psycopg.rows import namedtuple_row
from sqlalchemy import Connection, Date, Integer, and_, case, exists, func, select, true

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
# The fields of a plan's usage against its monthly cap, in the order the statement's hash reads them.
CAP_FIELDS = ("care_plan_id", "month", "elder_id", "cap_fen", "cap_minutes", "government_fen", "minutes")
# Follow-ups whose outcome can still change a visit's decision.
DECIDING_FOLLOWUPS = ("unverified_visit",)


@dataclass
class Draft:
    provider_id: int
    month: str
    lines: list[dict] = field(default_factory=list)
    caps: dict = field(default_factory=dict)  # (care_plan_id, month served) → usage against the cap


def compute(provider_id: int, month: str, conn: Connection | None = None) -> Draft:
    """The lines of `provider_id`'s statement for `month` ("YYYY-MM") as of now, its visits and
    earlier statements read on `conn` (a draft's page: the replica's, backend/replica.py) or the
    session's (issuing)."""
    draft = Draft(provider_id, month)
    draft.lines = list(iter_lines(provider_id, month, draft.caps, conn))
    return draft


def iter_lines(provider_id: int, month: str, caps: dict, conn: Connection | None = None):
    """The statement's lines one at a time, numbered (issuing copies them as they come); `caps`
    collects each capped plan's usage, per month served. Every query runs here, before the lines
    are iterated: issuing copies them into the same connection, which can run nothing else while a
    COPY is open."""
    start, end = month_bounds(month)
    ctx = _Context(provider_id)
    own = _visit_rows(and_(Task.provider_id == provider_id, Task.window_start_at >= start, Task.window_start_at < end),
                      conn=conn)
    carried = _carried(ctx, provider_id, month, caps, conn)

    def lines():
        month_fees: set = set()
        no = 0
        for row in own:
            line = ctx.outcome(row, month, month_fees)
            ctx.fund(line, row, month, caps)
            no += 1
            line["line_no"] = no
            yield line
        for line in carried:
            no += 1
            line["line_no"] = no
            yield line
    return lines()


def _visit_rows(where, task_ids=None, conn: Connection | None = None):
    """The visits with everything their lines need, in one statement: the current decision, an
    open follow-up, the plan's funding rule, and (for co-paid plans only) the elder's categories
    and latest assessment level."""
    followup_open = exists().where(Followup.task_id == Task.id, Followup.status != "resolved",
                                   Followup.kind.in_(DECIDING_FOLLOWUPS))
    copaid = FundingRule.kind == "copay"
    # A task's one visit (visits.task_id is unique) looked up by its index: a provider's month is
    # a small slice of all visits, which a join would read whole (a parallel scan of 5,000,000
    # visits for 50,000 in bench/settlement.py); LIMIT 1 keeps the planner from making it one.
    visit = (select(Visit.id, Visit.is_verified, Visit.needs_review, Visit.started_at, Visit.ended_at)
             .where(Visit.task_id == Task.id, Visit.window_start_at == Task.window_start_at)
             .limit(1).lateral("visit"))
    # Whole minutes from the corrected check-in to check-out, and the scheduled window's, worked
    # out by the database: no datetime is built in Python for a line.
    actual = func.coalesce(func.greatest(func.floor(func.extract("epoch", visit.c.ended_at - visit.c.started_at) / 60),
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
                    visit.c.id.label("visit_id"), visit.c.is_verified,
                    visit.c.needs_review, CURRENT.decision, CURRENT.reason_code, followup_open.label("followup_open"),
                    FundingRule.kind.label("funding"), FundingRule.monthly_cap_fen, FundingRule.monthly_cap_minutes,
                    case((copaid, categories)).label("categories"), case((copaid, level)).label("level"))
             .select_from(Task).join(visit, true())
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
    cursor = (conn or db.session.connection()).connection.driver_connection.cursor(row_factory=namedtuple_row)
    # Without JIT: a district month is estimated costly enough for PostgreSQL to inline and
    # optimise the query into machine code, which took longer than running it (4.4 s of
    # compiling for a 4 s query at 500,000 visits in the month, bench/settlement.py).
    cursor.execute("SET LOCAL jit = off")
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
        self._percents: dict = {}

    def price(self, service_type: str, day: date):
        key = (service_type, day)
        if key not in self._prices:
            price = self.prices.at(service_type, day)
            self._prices[key] = None if price is None else (price.id, price.unit, price.price_fen,
                                                             price.rounding_minutes)
        return self._prices[key]

    def percent(self, categories, level) -> int:
        """The government's share of a co-paid elder, worked out once per combination of
        categories and level."""
        key = (tuple(categories or ()), level)
        if key not in self._percents:
            self._percents[key] = government_percent(list(key[0]), level, self.table)
        return self._percents[key]

    def outcome(self, row, month: str, month_fees: set | None) -> dict:
        """The visit's line before funding: state, units and amount. `month`: the month it was
        served in; `month_fees`: the (plan, service type, month) whose month fee is paid already
        (None: pay none)."""
        served_on = row.served_on
        line = {"state": "payable", "task_id": row.task_id, "visit_id": row.visit_id, "elder_id": row.elder_id,
                "care_plan_id": row.care_plan_id, "service_type": row.service_type, "served_on": served_on,
                "funding": None, "price_id": None, "unit": None, "units": 0, "minutes": row.minutes,
                "amount_fen": 0, "government_fen": 0, "copay_fen": 0, "reason": None, "adjusts_line_id": None}
        if row.decision == "rejected":
            line["state"], line["reason"] = "rejected", row.reason_code
            return line
        if row.followup_open:
            line["state"], line["reason"] = "held", "open_followup"
            return line
        if row.decision != "approved" and (row.needs_review or not row.is_verified):
            line["state"], line["reason"] = "held", "awaiting_review"
            return line
        if row.actual_minutes < (row.min_duration_minutes or 0):
            if self.too_short == "none":
                line["state"], line["reason"] = "rejected", "too_short"
                return line
            line["reason"] = "too_short"
        price = self.price(row.service_type, served_on)
        if price is None:
            line["reason"] = "no_price"
            return line
        price_id, unit, price_fen, rounding = price
        line.update(price_id=price_id, unit=unit)
        if unit == "visit":
            line["units"], line["amount_fen"] = 1, price_fen
        elif unit == "hour":
            units = line["minutes"] // rounding
            line["units"] = units
            line["amount_fen"] = _half_up(price_fen * units * rounding, 60)
        else:  # month: a bed's base fee, carried by the month's first paid visit of the plan and type
            key = (row.care_plan_id, row.service_type, month)
            if month_fees is not None and key not in month_fees:
                month_fees.add(key)
                line["units"], line["amount_fen"] = 1, price_fen
        return line

    def fund(self, line: dict, row, month: str, caps: dict | None) -> None:
        """Split the amount into the government's share and the elder's, within the plan's cap for
        `month` (the month the visit was served in)."""
        kind = row.funding or "self_pay"
        line["funding"] = kind
        amount = line["amount_fen"]
        if kind == "government":
            government = amount
        elif kind == "copay":
            government = amount * self.percent(row.categories, row.level) // 100
        else:
            government = 0
        if caps is not None and line["state"] == "payable" and kind != "self_pay":
            government = _within_cap(line, government, row, _usage(caps, row, line, month))
        line["government_fen"], line["copay_fen"] = government, amount - government


def _usage(caps: dict, rule, line: dict, month: str) -> dict | None:
    """The plan's usage of its cap for `month` (None when the plan has no cap). `minutes` are the
    minutes of its paid visits, within the cap or past it; `government_fen` what the government
    paid of them."""
    if rule.monthly_cap_fen is None and rule.monthly_cap_minutes is None:
        return None
    usage = caps.get((rule.care_plan_id, month))
    if usage is None:
        usage = caps[(rule.care_plan_id, month)] = {
            "care_plan_id": rule.care_plan_id, "month": month, "elder_id": line["elder_id"],
            "cap_fen": rule.monthly_cap_fen, "cap_minutes": rule.monthly_cap_minutes, "government_fen": 0,
            "minutes": 0}
    return usage


def _within_cap(line: dict, government: int, rule, usage: dict | None) -> int:
    """`rule`: the visit's row, with its plan's monthly caps. An hours cap pays the government's
    share of the minutes within it; an amount cap stops the share at the amount."""
    if usage is None:
        return government
    if rule.monthly_cap_minutes is not None:
        left = max(rule.monthly_cap_minutes - usage["minutes"], 0)
        if line["minutes"] > left:
            government = government * left // line["minutes"] if line["minutes"] else 0
    usage["minutes"] += line["minutes"]
    if rule.monthly_cap_fen is not None:
        government = min(government, max(rule.monthly_cap_fen - usage["government_fen"], 0))
    usage["government_fen"] += government
    return government


def _half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def _carried(ctx: _Context, provider_id: int, month: str, caps: dict, conn: Connection | None) -> list[dict]:
    """Lines about visits already on an earlier issued statement whose outcome changed since:
    held lines now decided (or still held), clawbacks of paid visits now rejected, releases of
    rejected visits now approved. What they pay counts against the cap of the month each visit
    was served in, after what that month's lines issued so far used (`caps` gets those months)."""
    prior = (conn or db.session).execute(
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
    changed = []
    for row in _visit_rows(Task.provider_id == provider_id, task_ids=list(settled), conn=conn):
        was = settled[row.task_id]
        now = ctx.outcome(row, f"{row.served_on:%Y-%m}", None)
        if (was["status"] == "held" or (was["status"] == "paid" and now["state"] == "rejected")
                or (was["status"] == "unpaid" and now["state"] == "payable")):
            changed.append((row, was))
    if not changed:
        return []
    fees, used = _issued_usage(provider_id, month, {row.care_plan_id for row, _ in changed}, conn)
    for row, _ in changed:
        served = f"{row.served_on:%Y-%m}"
        if (row.funding in ("government", "copay") and (row.care_plan_id, served) not in caps
                and _usage(caps, row, row._asdict(), served) is not None):
            caps[(row.care_plan_id, served)].update(used.get((row.care_plan_id, served), {}))
    lines = []
    for row, was in changed:
        served = f"{row.served_on:%Y-%m}"
        now = ctx.outcome(row, served, fees)
        ctx.fund(now, row, served, caps)
        if was["status"] == "held":
            lines.append({**now, "adjusts_line_id": was["last_id"]})
        elif now["state"] == "rejected":
            usage = _usage(caps, row, now, served)
            if usage is not None:  # what it gives back, its month's cap has again
                usage["government_fen"] -= was["government"]
                usage["minutes"] -= now["minutes"]
            lines.append({**now, "state": "adjustment", "reason": "clawback", "adjusts_line_id": was["last_id"],
                          "amount_fen": -was["amount"], "government_fen": -was["government"],
                          "copay_fen": -was["copay"]})
        else:
            lines.append({**now, "state": "adjustment", "reason": "release", "adjusts_line_id": was["last_id"]})
    return lines


def _issued_usage(provider_id: int, month: str, plan_ids: set, conn: Connection | None) -> tuple[set, dict]:
    """What statements in force before `month` paid the plans, per month served: the (plan,
    service type, month) whose month fee is paid, and per (plan, month) the government's share and
    the minutes paid (a clawback counting against them)."""
    paid = case((StatementLine.state == "payable", 1), (StatementLine.reason == "release", 1),
                (StatementLine.reason == "clawback", -1), else_=0)
    served = func.to_char(StatementLine.served_on, "YYYY-MM")
    rows = (conn or db.session).execute(
        select(StatementLine.care_plan_id, StatementLine.service_type, served.label("month"),
               func.sum(StatementLine.government_fen).label("government_fen"),
               func.sum(paid * StatementLine.minutes).label("minutes"),
               func.sum(case((StatementLine.unit == "month", paid * StatementLine.units), else_=0)).label("fees"))
        .join(Statement, Statement.id == StatementLine.statement_id)
        .where(Statement.provider_id == provider_id, Statement.status != "superseded", Statement.month < month,
               StatementLine.care_plan_id.in_(plan_ids))
        .group_by(StatementLine.care_plan_id, StatementLine.service_type, served)).all()
    fees = {(row.care_plan_id, row.service_type, row.month) for row in rows if row.fees > 0}
    used: dict = {}
    for row in rows:  # sums of integers come back as numeric (Decimal): fen are int here
        usage = used.setdefault((row.care_plan_id, row.month), {"government_fen": 0, "minutes": 0})
        usage["government_fen"] += int(row.government_fen)
        usage["minutes"] += int(row.minutes)
    return fees, used


# ---------------------------------------------------------------- totals and hash

class Tally:
    """Totals (per state, funding share and service type) and the hash of lines added one by one,
    then of the plans' usage against their caps (a draft's totals need no hash: `digest` None)."""

    def __init__(self, provider_id: int, month: str, seq: int, *, hashed: bool = True):
        self.digest = hashlib.sha256(json.dumps({"provider_id": provider_id, "month": month, "seq": seq},
                                                sort_keys=True).encode()) if hashed else None
        self.sums = {"total_fen": 0, "government_fen": 0, "copay_fen": 0}
        self.count = 0
        self.by_state = {state: {"lines": 0, "amount_fen": 0} for state in LINE_STATES}
        self.by_type = defaultdict(lambda: {"lines": 0, "units": 0, "minutes": 0, "amount_fen": 0, "government_fen": 0,
                                            "copay_fen": 0})
        self.by_funding = defaultdict(lambda: {"lines": 0, "amount_fen": 0, "government_fen": 0, "copay_fen": 0})

    def add(self, line) -> None:
        get = line.get if isinstance(line, dict) else line._mapping.get
        # Fields as text joined by a unit separator (none of them can hold one), a line per line.
        if self.digest is not None:
            self.digest.update(("\x1f".join("" if (value := get(name)) is None else str(value)
                                             for name in LINE_FIELDS) + "\n").encode())
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

    def add_cap(self, usage) -> None:
        """A plan's usage against its cap, after every line: "cap" first, so that it never reads as
        a line (a line starts with its number). A statement without caps hashes as before."""
        get = usage.get if isinstance(usage, dict) else usage._mapping.get
        self.digest.update(("\x1f".join(["cap", *("" if (value := get(name)) is None else str(value)
                                                  for name in CAP_FIELDS)]) + "\n").encode())

    def totals(self) -> dict:
        return {**self.sums,
                "by_state": [{"state": state, **value} for state, value in self.by_state.items()],
                "by_service_type": [{"service_type": code, **value} for code, value in sorted(self.by_type.items())],
                "by_funding": [{"funding": kind, **value} for kind, value in sorted(self.by_funding.items())]}

    def hexdigest(self) -> str:
        return self.digest.hexdigest()


def totals(lines) -> dict:
    """Totals of the lines, per state, per funding share and per service type."""
    tally = Tally(0, "", 0, hashed=False)
    for line in lines:
        tally.add(line)
    return tally.totals()


def statement_hash(provider_id: int, month: str, seq: int, lines, caps=()) -> str:
    """SHA-256 over the statement's header, every line's fields in order, then every plan's usage
    against its cap (in cap_rows' order)."""
    tally = Tally(provider_id, month, seq)
    for line in lines:
        tally.add(line)
    for usage in caps:
        tally.add_cap(usage)
    return tally.hexdigest()


def cap_rows(caps: dict) -> list[dict]:
    """The usage against the caps in the order it is hashed, stored and shown: by month served, then plan."""
    return [caps[key] for key in sorted(caps, key=lambda key: (key[1], key[0]))]


def elder_names(elder_ids) -> dict[int, str]:
    ids = list(set(elder_ids))
    if not ids:
        return {}
    return dict(db.session.execute(select(Elder.id, Elder.name).where(Elder.id.in_(ids))).all())
