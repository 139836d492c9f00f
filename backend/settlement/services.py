"""Reading statements as their readers see them (the API and the console share these): the one
in force or the live draft of a provider's month, one statement with its lines, the list, and who
may see which provider's.

Problems raised: not_found (404) for a provider or statement outside the caller's scope (a
supervisor's: the providers serving their region).
"""

from sqlalchemy import false, select, true

from backend import replica
from backend.clock import utcnow
from backend.errors import NotFound
from backend.extensions import db
from backend.providers.models import Provider
from backend.scope import supervised_providers
from backend.settlement import ledger, lifecycle
from backend.settlement.models import Statement, StatementDispute
from backend.users.models import User

READERS = ("admin", "supervisor", "provider_manager")


def providers_clause(user: User, provider_id_column):
    """Providers whose statements a user reads and issues: admins all, a supervisor those serving
    their region (backend/scope.py: supervised_providers), a provider manager their own."""
    if user.role == "admin":
        return true()
    if user.role == "supervisor":
        return provider_id_column.in_(supervised_providers(user))
    if user.role == "provider_manager" and user.provider_id is not None:
        return provider_id_column == user.provider_id
    return false()


def provider_or_404(user: User, provider_id: int) -> Provider:
    provider = db.session.execute(select(Provider).where(Provider.id == provider_id,
                                                         providers_clause(user, Provider.id))).scalar_one_or_none()
    if provider is None:
        raise NotFound("provider")
    return provider


def statement_or_404(user: User, statement_id: int, *, for_update: bool = False) -> Statement:
    query = select(Statement).where(Statement.id == statement_id, providers_clause(user, Statement.provider_id))
    if for_update:
        query = query.with_for_update(of=Statement).execution_options(populate_existing=True)
    statement = db.session.execute(query).scalar_one_or_none()
    if statement is None:
        raise NotFound("statement")
    return statement


def listed(user: User, args: dict):
    """The statements a user may read, newest month first."""
    query = select(Statement).where(providers_clause(user, Statement.provider_id))
    if args.get("provider_id") is not None:
        query = query.where(Statement.provider_id == args["provider_id"])
    if args.get("month") is not None:
        query = query.where(Statement.month == args["month"])
    if args.get("status") is not None:
        query = query.where(Statement.status == args["status"])
    return query.order_by(Statement.month.desc(), Statement.provider_id, Statement.seq.desc())


def month_view(provider: Provider, month: str, *, state: str | None = None) -> dict:
    """The statement in force for the provider's month, or the live draft when none is issued."""
    statement = lifecycle.in_force(provider.id, month)
    if statement is not None:
        return present(statement, state=state)
    # A draft is recomputed on every read, a heavy one: on the replica while it keeps up.
    with replica.read_connection(replica.heavy_read_source(now=utcnow())) as conn:
        draft = ledger.compute(provider.id, month, conn)
    names = ledger.elder_names(line["elder_id"] for line in draft.lines)
    sums = ledger.totals(draft.lines)
    lines = [{**line, "id": None, "elder_name": names.get(line["elder_id"], ""), "disputed": None}
             for line in draft.lines if state is None or line["state"] == state]
    return {"id": None, "provider_id": provider.id, "provider_name": provider.name, "month": month, "seq": None,
            "status": "draft", "total_fen": sums["total_fen"], "government_fen": sums["government_fen"],
            "copay_fen": sums["copay_fen"], "line_count": len(draft.lines), "hash": None, "issued_at": None,
            "answered_at": None, "approved_at": None, "superseded_by_id": None, "totals": sums,
            "cap_usage": _cap_usage(ledger.cap_rows(draft.caps)), "lines": lines}


def present(statement: Statement, *, state: str | None = None) -> dict:
    """An issued statement with its stored lines (all, or those of one state) and their disputes."""
    provider = db.session.get(Provider, statement.provider_id)
    every = lifecycle.stored_lines(statement.id)
    names = ledger.elder_names(line.elder_id for line in every)
    disputes = dict(db.session.execute(select(StatementDispute.line_id, StatementDispute.reason)
                                       .where(StatementDispute.statement_id == statement.id)).all())
    lines = [{**{name: getattr(line, name) for name in ledger.LINE_FIELDS}, "id": line.id,
              "elder_name": names.get(line.elder_id, ""), "disputed": disputes.get(line.id)}
             for line in every if state is None or line.state == state]
    sums = ledger.totals([{name: getattr(line, name) for name in ledger.LINE_FIELDS} for line in every])
    usages = [{name: getattr(usage, name) for name in ledger.CAP_FIELDS}
              for usage in lifecycle.stored_cap_usage(db.session, statement.id)]
    return {**summary(statement, provider), "totals": sums, "cap_usage": _cap_usage(usages), "lines": lines}


def summary(statement: Statement, provider: Provider | None = None) -> dict:
    provider = provider or db.session.get(Provider, statement.provider_id)
    return {name: getattr(statement, name) for name in (
        "id", "provider_id", "month", "seq", "status", "total_fen", "government_fen", "copay_fen", "line_count",
        "hash", "issued_at", "answered_at", "approved_at", "superseded_by_id")} | {"provider_name": provider.name}


def _cap_usage(usages: list[dict]) -> list[dict]:
    names = ledger.elder_names(usage["elder_id"] for usage in usages)
    return [{**usage, "elder_name": names.get(usage["elder_id"], "")} for usage in usages]
