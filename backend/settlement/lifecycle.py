"""A statement's life: issued (its lines stored, its hash in the audit trail) → the provider
confirms or disputes lines → the supervisor approves (locked) or reissues it as a new statement.

Services add and flush; the caller commits. Problems raised: validation_failed (422) for a month
that has not ended or lines of another statement; statement_state (409) for a step its status does
not allow (and for issuing a month whose statement is in force and not disputed); forbidden (403)
for a provider manager of another provider or a role that may not take the step.
"""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Text, cast, func, literal, select, text
from sqlalchemy.exc import IntegrityError

from backend.audit import trail
from backend.errors import Conflict, Forbidden, Problem, ValidationFailed
from backend.extensions import db
from backend.providers.models import Provider
from backend.reviews.sampling import month_bounds
from backend.settlement import ledger
from backend.settlement.exports import word
from backend.settlement.models import Statement, StatementCapUsage, StatementDispute, StatementLine
from backend.users.models import User

OFFICE = ("admin", "supervisor")


def in_force(provider_id: int, month: str, *, for_update: bool = False) -> Statement | None:
    query = select(Statement).where(Statement.provider_id == provider_id, Statement.month == month,
                                    Statement.status != "superseded")
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.execute(query).scalar_one_or_none()


def issue(provider: Provider, month: str, *, by: User, at: datetime) -> Statement:
    """Freeze the month's draft as a statement. A disputed statement in force is superseded by the
    new one (a reissue); any other in force refuses with statement_state."""
    if by.role not in OFFICE:
        raise Forbidden(_l("only supervisors and admins issue statements"))
    _, end = month_bounds(month)
    if end > at:
        raise ValidationFailed("month", _l("the month has not ended yet"))
    # One issuer at a time per provider: the draft read below must be the one stored.
    db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": 0x5E771E00000000 + provider.id})
    previous = in_force(provider.id, month, for_update=True)
    if previous is not None and previous.status != "disputed":
        raise Problem("statement_state", _l("the statement of this month is already issued (%(status)s); only a "
                                            "disputed statement can be reissued", status=word(previous.status)),
                      statement_id=previous.id)
    seq = previous.seq + 1 if previous is not None else 1
    if previous is not None:
        previous.status = "superseded"
        db.session.flush()
    # The statement row first (its lines refer to it), its totals and hash once its lines are in.
    statement = Statement(provider_id=provider.id, month=month, seq=seq, status="issued", total_fen=0,
                          government_fen=0, copay_fen=0, line_count=0, hash="", issued_by_id=by.id, issued_at=at)
    try:
        with db.session.begin_nested():
            db.session.add(statement)
            db.session.flush()
    except IntegrityError:
        raise Conflict(_l("another statement of this month was issued a moment ago; reload it")) from None
    if previous is not None:
        previous.superseded_by_id = statement.id
    # The lines stream from the computation into COPY (straight through the driver), tallied on
    # the way, and are described once in the audit trail by the statement's hash (the statement's
    # own update records it too): a month's lines row by row would make the entry as large as the
    # statement.
    tally = ledger.Tally(provider.id, month, seq)
    columns = ("statement_id", *ledger.LINE_FIELDS)
    caps: dict = {}
    lines = ledger.iter_lines(provider.id, month, caps)  # its queries run now, before the COPY opens
    cursor = db.session.connection().connection.driver_connection.cursor()
    with cursor.copy(f"COPY statement_lines ({', '.join(columns)}) FROM STDIN") as copy:
        for line in lines:
            tally.add(line)
            copy.write_row((statement.id, *(line[name] for name in ledger.LINE_FIELDS)))
    # The usage against the caps is whole once every line is through: stored and hashed after them.
    usages = ledger.cap_rows(caps)
    with cursor.copy(f"COPY statement_cap_usage (statement_id, {', '.join(ledger.CAP_FIELDS)}) FROM STDIN") as copy:
        for usage in usages:
            tally.add_cap(usage)
            copy.write_row((statement.id, *(usage[name] for name in ledger.CAP_FIELDS)))
    sums = tally.totals()
    statement.total_fen, statement.government_fen, statement.copay_fen = (
        sums["total_fen"], sums["government_fen"], sums["copay_fen"])
    statement.line_count, statement.hash = tally.count, tally.hexdigest()
    db.session.flush()
    trail.record(db.session, {"table": "statement_lines", "action": "bulk_insert", "statement_id": statement.id,
                              "rows": tally.count, "cap_usage_rows": len(usages), "hash": statement.hash})
    db.session.flush()
    return statement


def may_answer(statement: Statement, user: User) -> bool:
    """The provider answers: its own manager (or an admin on its behalf)."""
    return user.role == "admin" or (user.role == "provider_manager" and user.provider_id == statement.provider_id)


def confirm(statement: Statement, *, by: User, at: datetime) -> Statement:
    if not may_answer(statement, by):
        raise Forbidden(_l("only the provider's manager confirms its statements"))
    _require(statement, ("issued",))
    statement.status, statement.answered_by_id, statement.answered_at = "confirmed", by.id, at
    db.session.flush()
    return statement


def dispute(statement: Statement, line_ids: list[int], reason: str, *, by: User, at: datetime) -> Statement:
    """Dispute lines with a reason. Raises validation_failed for lines of another statement or no reason."""
    if not may_answer(statement, by):
        raise Forbidden(_l("only the provider's manager disputes its statements"))
    _require(statement, ("issued", "confirmed", "disputed"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("reason", _l("required"))
    ids = list(dict.fromkeys(line_ids))
    found = set(db.session.execute(select(StatementLine.id).where(StatementLine.statement_id == statement.id,
                                                                  StatementLine.id.in_(ids))).scalars())
    if not ids or found != set(ids):
        raise ValidationFailed("line_ids", _l("must name lines of this statement"))
    already = {d.line_id for d in statement.disputes}
    for line_id in ids:
        if line_id not in already:
            db.session.add(StatementDispute(statement_id=statement.id, line_id=line_id, reason=reason, by_id=by.id,
                                            at=at))
    statement.status, statement.answered_by_id, statement.answered_at = "disputed", by.id, at
    db.session.flush()
    db.session.refresh(statement, ["disputes"])
    return statement


def approve(statement: Statement, *, by: User, at: datetime) -> Statement:
    """Lock the statement. What a dispute changes afterwards (a visit rejected on review) lands
    as an adjustment on the next month's statement."""
    if by.role not in OFFICE:
        raise Forbidden(_l("only supervisors and admins approve statements"))
    _require(statement, ("issued", "confirmed", "disputed"))
    statement.status, statement.approved_by_id, statement.approved_at = "locked", by.id, at
    db.session.flush()
    return statement


def _require(statement: Statement, allowed: tuple[str, ...]) -> None:
    if statement.status not in allowed:
        needed = " / ".join(word(status) for status in allowed)
        raise Problem("statement_state", _l("the statement is %(status)s; this step needs it %(allowed)s",
                                            status=word(statement.status), allowed=needed),
                      statement_id=statement.id)


def stored_cap_usage(session, statement_id: int):
    """The statement's frozen usage against the caps, in the order its hash reads it."""
    return session.execute(select(StatementCapUsage).where(StatementCapUsage.statement_id == statement_id)
                           .order_by(StatementCapUsage.month, StatementCapUsage.care_plan_id)).scalars().all()


def stored_lines(statement_id: int, state: str | None = None):
    query = select(StatementLine).where(StatementLine.statement_id == statement_id)
    if state is not None:
        query = query.where(StatementLine.state == state)
    return db.session.execute(query.order_by(StatementLine.line_no)).scalars().all()


def verify_statements(session) -> list[tuple[int, str]]:
    """Each issued statement whose stored lines no longer give its hash, or whose hash the audit
    trail never recorded: (statement id, what is wrong)."""
    broken = []
    entries = trail.whole_trail(session)
    columns = [getattr(StatementLine, name) for name in ledger.LINE_FIELDS]
    for statement in session.execute(select(Statement.id, Statement.provider_id, Statement.month, Statement.seq,
                                            Statement.hash).order_by(Statement.id)).all():
        lines = session.execute(select(*columns).where(StatementLine.statement_id == statement.id)
                                .order_by(StatementLine.line_no)).all()
        caps = [{name: getattr(usage, name) for name in ledger.CAP_FIELDS}
                for usage in stored_cap_usage(session, statement.id)]
        if ledger.statement_hash(statement.provider_id, statement.month, statement.seq, lines, caps) != statement.hash:
            broken.append((statement.id, "its lines or its usage against the caps were changed after it was issued"))
            continue
        # The whole trail: a statement issued before the retention limit has its entry archived.
        recorded = session.execute(select(literal(1)).limit(1).where(
            func.strpos(cast(entries.c.changes, Text), statement.hash) > 0)).first()
        if recorded is None:
            broken.append((statement.id, "its hash is not the one the audit trail recorded"))
    return broken
