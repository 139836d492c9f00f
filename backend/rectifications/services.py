"""Rectification verbs (限期整改): issue an order to a provider, the provider responds, the
supervisor accepts, extends or escalates; which orders a user may see; which are overdue.

Services add and flush; the caller commits. Every verb appends a RectificationEvent.

Problems raised: forbidden (403) when the wrong side acts (only supervisors and admins issue,
accept, extend and escalate; only the provider's manager responds); validation_failed (422) for
an unknown provider or one outside the supervisor's region, visits not of that provider, a deadline
not after today, a monthly-list order without its month; conflict (409) when the order is not in
a state the verb applies to; version_conflict (409) for a stale version.
"""

from datetime import date, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import false, select, true

from backend.clock import local_today
from backend.errors import Conflict, Forbidden, ValidationFailed
from backend.extensions import db
from backend.followups.services import notify
from backend.plans.models import CarePlan
from backend.providers.models import Provider
from backend.rectifications.models import Rectification, RectificationEvent
from backend.scope import supervised_providers, tasks_clause
from backend.tasks.models import Task
from backend.users.models import User
from backend.versions import check_version

ISSUERS = ("admin", "supervisor")
OPEN = ("open", "responded")


def rectifications_clause(user: User):
    """Orders a user may see: admins all; supervisors those of the providers they oversee and
    those they issued; a provider manager their provider's."""
    if user.role == "admin":
        return true()
    if user.role == "provider_manager":
        return Rectification.provider_id == user.provider_id
    if user.role == "supervisor":
        return Rectification.provider_id.in_(supervised_providers(user)) | (Rectification.issued_by_id == user.id)
    return false()


def overdue_clause(today: date):
    """SQL: the order is still awaiting the provider's response past its deadline."""
    return (Rectification.status == "open") & (Rectification.due_on < today)


def listed(user: User, args: dict, *, now: datetime):
    """The orders a user may see, filtered (provider, status, overdue), open ones first by deadline:
    the API's list and the console's page alike."""
    query = select(Rectification).where(rectifications_clause(user))
    if "provider_id" in args:
        query = query.where(Rectification.provider_id == args["provider_id"])
    if args.get("status"):
        query = query.where(Rectification.status.in_(args["status"]))
    if args.get("overdue") is not None:
        overdue = overdue_clause(local_today(now))
        query = query.where(overdue if args["overdue"] else ~overdue)
    return query.order_by(Rectification.status.notin_(OPEN), Rectification.due_on, Rectification.id)


def issue(*, provider_id: int, findings: str, due_on: date, by: User, at: datetime, source: str = "ad_hoc",
          month: str | None = None, task_ids: list[int] | None = None, figures: dict | None = None) -> Rectification:
    """A new order to the provider; its manager hears of it."""
    if by.role not in ISSUERS:
        raise Forbidden(_l("only supervisors and admins issue rectification orders"))
    provider = db.session.execute(select(Provider).where(
        Provider.id == provider_id, Provider.id.in_(supervised_providers(by)))).scalar_one_or_none()
    if provider is None:
        raise ValidationFailed("provider_id", _l("no such provider among those you oversee"))
    findings = (findings or "").strip()
    if not findings:
        raise ValidationFailed("findings", _l("required"))
    if source == "monthly_list" and not month:
        raise ValidationFailed("month", _l("required for an order from the monthly rectification list"))
    _check_deadline(due_on, at)
    task_ids = list(dict.fromkeys(task_ids or []))
    if task_ids:
        found = set(db.session.execute(select(Task.id).where(
            Task.id.in_(task_ids), tasks_clause(by),
            Task.care_plan_id.in_(select(CarePlan.id).where(CarePlan.provider_id == provider.id)))).scalars())
        missing = [i for i in task_ids if i not in found]
        if missing:
            raise ValidationFailed("task_ids", _l("not visits of this provider that you may see: %(ids)s",
                                                  ids=", ".join(map(str, missing))))
    order = Rectification(provider_id=provider.id, source=source, month=month, findings=findings,
                          task_ids=task_ids, figures=figures or {}, due_on=due_on, status="open", extensions=0,
                          issued_by_id=by.id, issued_at=at)
    db.session.add(order)
    db.session.flush()
    _event(order, "issued", by, at, due_on=due_on)
    if provider.manager_id is not None:
        notify(provider.manager_id, "rectification_issued", at=at, task_id=None, step=f"rectification{order.id}",
               title=f"限期整改通知：{provider.name}", body=f"整改期限 {due_on:%Y-%m-%d}：{findings[:200]}")
    return order


def respond(order: Rectification, text: str, *, by: User, at: datetime, version: int | None = None) -> Rectification:
    """The provider's manager says what was done; a second response replaces nothing, it is
    recorded as a further event and becomes the order's response."""
    check_version(order, version, what="rectification")
    if by.role != "provider_manager" or by.provider_id != order.provider_id:
        raise Forbidden(_l("only the provider's manager responds to its rectification order"))
    if order.status not in OPEN:
        raise Conflict(_l("this rectification order is closed"))
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("response", _l("required"))
    order.response, order.responded_by_id, order.responded_at, order.status = text, by.id, at, "responded"
    event = _event(order, "responded", by, at, note=text)
    notify(order.issued_by_id, "rectification_answer", at=at, task_id=None, step=f"rectification_event{event.id}",
           title=f"整改答复：{order.provider.name}", body=text[:300])
    return order


def accept(order: Rectification, note: str | None, *, by: User, at: datetime,
           version: int | None = None) -> Rectification:
    """The supervisor accepts the provider's response: the order is closed."""
    _check_supervisor(order, by, version)
    if order.status != "responded":
        raise Conflict(_l("only a responded rectification order can be accepted"))
    order.status, order.closed_at = "accepted", at
    event = _event(order, "accepted", by, at, note=_clean(note))
    _tell_provider(order, event, f"整改已验收：{order.provider.name}", _clean(note) or "")
    return order


def extend(order: Rectification, due_on: date, note: str | None, *, by: User, at: datetime,
           version: int | None = None) -> Rectification:
    """A later deadline: the order is open again, awaiting a (further) response."""
    _check_supervisor(order, by, version)
    if order.status not in OPEN:
        raise Conflict(_l("this rectification order is closed"))
    if due_on <= order.due_on:
        raise ValidationFailed("due_on", _l("must be after the current deadline %(due_on)s",
                                            due_on=order.due_on.isoformat()))
    _check_deadline(due_on, at)
    order.due_on, order.status, order.extensions = due_on, "open", order.extensions + 1
    event = _event(order, "extended", by, at, note=_clean(note), due_on=due_on)
    _tell_provider(order, event, f"整改期限延至 {due_on:%Y-%m-%d}：{order.provider.name}", _clean(note) or "")
    return order


def escalate(order: Rectification, note: str, *, by: User, at: datetime,
             version: int | None = None) -> Rectification:
    """Not put right: the order is closed as escalated (to the bureau's leadership, or to a
    claw-back of subsidies), with the reason; the admins hear of it."""
    _check_supervisor(order, by, version)
    if order.status not in OPEN:
        raise Conflict(_l("this rectification order is closed"))
    note = _clean(note)
    if note is None:
        raise ValidationFailed("note", _l("required"))
    order.status, order.closed_at = "escalated", at
    _event(order, "escalated", by, at, note=note)
    admins = db.session.execute(select(User.id).where(User.role == "admin", User.is_active.is_(True))).scalars()
    for admin_id in admins:
        notify(admin_id, "escalated", at=at, task_id=None, step=f"rectification{order.id}",
               title=f"整改升级：{order.provider.name}", body=note[:300])
    return order


def overdue(provider_id: int | None = None, *, now: datetime) -> list[Rectification]:
    """Orders past their deadline with no response, oldest deadline first (the monthly report's)."""
    query = select(Rectification).where(overdue_clause(local_today(now)))
    if provider_id is not None:
        query = query.where(Rectification.provider_id == provider_id)
    return list(db.session.execute(query.order_by(Rectification.due_on, Rectification.id)).scalars())


def overdue_rows(provider_ids: list[int], *, now: datetime) -> list[dict]:
    """The monthly report's rows of overdue orders of these providers, as of `now`."""
    if not provider_ids:
        return []
    query = (select(Rectification.id, Provider.name, Rectification.due_on, Rectification.findings)
             .join(Provider, Rectification.provider_id == Provider.id)
             .where(Rectification.provider_id.in_(provider_ids), overdue_clause(local_today(now)))
             .order_by(Rectification.due_on, Rectification.id))
    return [{"rectification_id": order_id, "name": name, "due_on": due_on, "findings": findings}
            for order_id, name, due_on, findings in db.session.execute(query)]


def holds_statement(provider_id: int, *, now: datetime) -> bool:
    """Whether the provider's next statement is held: the setting RECTIFICATION_HOLDS_STATEMENT is
    on and an order of the provider is overdue."""
    if not current_app.config["RECTIFICATION_HOLDS_STATEMENT"]:
        return False
    return db.session.execute(select(Rectification.id).where(
        Rectification.provider_id == provider_id, overdue_clause(local_today(now))).limit(1)).first() is not None


def _tell_provider(order: Rectification, event: RectificationEvent, title: str, body: str) -> None:
    if order.provider.manager_id is not None:
        notify(order.provider.manager_id, "rectification_update", at=event.at, task_id=None,
               step=f"rectification_event{event.id}", title=title, body=body)


def _check_supervisor(order: Rectification, by: User, version: int | None) -> None:
    check_version(order, version, what="rectification")
    if by.role not in ISSUERS:
        raise Forbidden(_l("only supervisors and admins decide on rectification orders"))


def _check_deadline(due_on: date, at: datetime) -> None:
    if due_on <= local_today(at):
        raise ValidationFailed("due_on", _l("must be after today"))


def _clean(text: str | None) -> str | None:
    return (text or "").strip() or None


def _event(order: Rectification, action: str, by: User, at: datetime, *, note: str | None = None,
           due_on: date | None = None) -> RectificationEvent:
    event = RectificationEvent(rectification_id=order.id, action=action, by_id=by.id, at=at, note=note,
                               due_on=due_on)
    db.session.add(event)
    db.session.flush()
    return event
