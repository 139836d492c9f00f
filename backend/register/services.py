"""The register follows the people in it: reporting that an elder died, moved away or went into
hospital, and a supervisor confirming or rejecting the report.

A report opens a `register_change` follow-up for the supervisor of the elder's community. Confirming
it changes the elder's status (deceased, moved_out, or suspended until a return date), ends the
elder's plans (or pauses them for a hospital stay), and cancels the elder's unstarted tasks whose
window has not closed, with the reason, so phones drop them on their next pull. Nothing is
deleted. Rejecting it changes nothing but the report and its follow-up. A suspended elder comes
back by themselves on the return date (resume_returned, run by a scheduled job).

Services add and flush; the caller commits. Problems raised: validation_failed (422) naming the
field (a hospital stay without a return date, dates out of order or in the future); conflict (409)
`elder_not_active` for a report on an elder who is no longer in the register,
`status_report_pending` when another report on the elder awaits a decision,
`status_report_decided` for deciding a report twice; version_conflict (409) for a stale version;
forbidden (403) for a decision by someone who does not supervise the elder.
"""

from datetime import date, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend.clock import local_midnight, local_today
from backend.console.display import label
from backend.elders.models import Elder
from backend.errors import Conflict, Forbidden, ValidationFailed
from backend.extensions import db
from backend.followups.models import ACTIVE, Followup, FollowupEvent
from backend.followups.services import open_followup, region_supervisor
from backend.plans.models import CarePlan, PatrolPlan
from backend.register.models import StatusReport
from backend.scope import elders_clause, scoped_or_404
from backend.tasks.generation import generate_tasks
from backend.tasks.models import Task
from backend.tasks.recurrence import period_bounds
from backend.tasks.services import cancel
from backend.users.models import User
from backend.versions import check_version

# What a confirmed report makes of the elder, and the reason their cancelled tasks carry.
NEW_STATUS = {"deceased": "deceased", "moved_out": "moved_out", "in_hospital": "suspended"}
CANCEL_REASON = {"deceased": "elder_deceased", "moved_out": "elder_moved_out", "in_hospital": "elder_in_hospital"}
# A patrol report's outcome → the report it makes.
PATROL_OUTCOMES = {"deceased": "deceased", "moved": "moved_out", "in_hospital": "in_hospital"}
SUMMARY = {"deceased": "巡访报告老人已去世，待核实", "moved_out": "巡访报告老人已迁出，待核实",
           "in_hospital": "报告老人住院，待核实"}


def listed(user: User, args: dict):
    """The status reports on elders the user may see, newest first, filtered by state and elder:
    the API's list and the console's alike."""
    query = select(StatusReport).join(Elder, StatusReport.elder_id == Elder.id).where(elders_clause(user))
    for name in ("state", "elder_id", "kind"):
        if name in args:
            query = query.where(getattr(StatusReport, name) == args[name])
    return query.order_by(StatusReport.reported_at.desc(), StatusReport.id.desc())


def visible_report(report_id: int, *, viewer: User, for_update: bool = False) -> StatusReport:
    clause = StatusReport.elder_id.in_(select(Elder.id).where(elders_clause(viewer)))
    return scoped_or_404(StatusReport, report_id, clause, what="status report", for_update=for_update)


def report_status(elder: Elder, kind: str, *, by: User | None, at: datetime, occurred_on: date | None = None,
                  returns_on: date | None = None, note: str | None = None, visit_item_id: str | None = None,
                  by_system: str = "api") -> StatusReport:
    """Record that `elder` died, moved away or is in hospital, and ask the community's supervisor
    to confirm it. A hospital stay reported by hand needs its expected return date; one a patrol
    saw gets it when it is confirmed."""
    today = local_today(at)
    if elder.status not in ("active", "suspended") or (kind == "in_hospital" and elder.status != "active"):
        raise Conflict(_l("The elder is %(status)s in the register", status=label("elder_status", elder.status)),
                       code="elder_not_active", status=409)
    if occurred_on is not None and occurred_on > today:
        raise ValidationFailed("occurred_on", _l("is in the future"))
    if kind == "in_hospital" and visit_item_id is None and returns_on is None:
        raise ValidationFailed("returns_on", _l("a hospital stay needs its expected return date"))
    _check_return(kind, returns_on, today)
    report = StatusReport(elder_id=elder.id, kind=kind, state="pending", occurred_on=occurred_on,
                          returns_on=returns_on if kind == "in_hospital" else None, note=(note or "").strip() or None,
                          visit_item_id=visit_item_id, reported_by_id=by.id if by else None, reported_at=at)
    try:
        with db.session.begin_nested():
            db.session.add(report)
            db.session.flush()
    except IntegrityError:
        raise Conflict(_l("Another status report on this elder awaits a decision"), code="status_report_pending",
                       status=409) from None
    supervisor = region_supervisor(elder.community_id)
    followup = open_followup(
        kind="register_change", dedupe_key=f"register_change:report:{report.id}",
        owner_id=supervisor.id if supervisor else None, at=at, priority="high",
        summary=f"{SUMMARY[kind]}：{elder.name}", elder_id=elder.id, region_id=elder.community_id,
        subject_user_id=by.id if by else None, by_system=by_system,
        details={"status_report_id": report.id, "kind": kind, "occurred_on": _iso(occurred_on),
                 "returns_on": _iso(report.returns_on), "note": report.note})
    report.followup_id = followup.id
    db.session.flush()
    return report


def report_from_patrol(item, outcome: str, *, elder: Elder, at: datetime,
                       observations: dict | None = None) -> StatusReport | None:
    """A patrol that found the elder dead, moved away or in hospital reports it. Nothing is
    reported for an elder no longer in the register, or while another report awaits a decision:
    the patrol report itself stays on record either way."""
    kind = PATROL_OUTCOMES.get(outcome)
    if kind is None:
        return None
    pending = db.session.execute(select(StatusReport.id).where(
        StatusReport.elder_id == elder.id, StatusReport.state == "pending")).first()
    if pending is not None or elder.status not in ("active", "suspended") or (
            kind == "in_hospital" and elder.status != "active"):
        return None
    said = [text for text in (observations or {}).values() if isinstance(text, str) and text.strip()]
    try:
        return report_status(elder, kind, by=db.session.get(User, item.user_id), at=at, visit_item_id=item.id,
                             occurred_on=local_today(item.captured_at_corrected), note="；".join(said) or None,
                             by_system="sync")
    except Conflict:  # another report got in first: the patrol report is accepted all the same
        return None


def confirm(report: StatusReport, *, by: User, at: datetime, version: int | None = None,
            returns_on: date | None = None, note: str | None = None) -> StatusReport:
    """Make the report true in the register: the elder's status, their plans and their tasks. A
    hospital stay's return date may be given (or corrected) here; it must be after today."""
    _check_decidable(report, by, version)
    elder = db.session.execute(select(Elder).where(Elder.id == report.elder_id).with_for_update()
                               .execution_options(populate_existing=True)).scalar_one()
    if elder.status not in ("active", "suspended") or (report.kind == "in_hospital" and elder.status != "active"):
        raise Conflict(_l("The elder is %(status)s in the register", status=label("elder_status", elder.status)),
                       code="elder_not_active", status=409)
    today = local_today(at)
    if report.kind == "in_hospital":
        report.returns_on = returns_on or report.returns_on
        if report.returns_on is None:
            raise ValidationFailed("returns_on", _l("a hospital stay needs its expected return date"))
        _check_return(report.kind, report.returns_on, today)
    elder.status = NEW_STATUS[report.kind]
    elder.is_active = False
    elder.returns_on = report.returns_on
    elder.status_changed_at = elder.updated_at = at
    plans = _stop_plans(elder, pause=report.kind == "in_hospital", today=today, at=at)
    cancelled = _cancel_open_tasks(elder, reason=CANCEL_REASON[report.kind], by=by, at=at)
    report.effects = {"elder_status": elder.status, "cancelled_task_ids": cancelled, **plans}
    _decide(report, "confirmed", by=by, at=at, note=note)
    return report


def reject(report: StatusReport, *, by: User, at: datetime, reason: str, version: int | None = None) -> StatusReport:
    """The report was wrong: it is closed with the reason and nothing else changes."""
    _check_decidable(report, by, version)
    if not reason or not reason.strip():
        raise ValidationFailed("reason", _l("rejecting a report needs a reason"))
    _decide(report, "rejected", by=by, at=at, note=reason)
    return report


def resume_returned(*, now: datetime) -> int:
    """Every suspended elder whose return date has come is active again: their paused plans resume
    from now, as a new revision, and their tasks are generated at once. Returns how many elders
    came back. Safe to run twice: a resumed elder is no longer suspended."""
    today = local_today(now)
    elders = db.session.execute(select(Elder).where(Elder.status == "suspended", Elder.returns_on <= today)
                                .order_by(Elder.id).with_for_update(skip_locked=True)).scalars().all()
    for elder in elders:
        elder.status, elder.is_active, elder.returns_on = "active", True, None
        elder.status_changed_at = elder.updated_at = now
        care_ids, patrol_ids = [], []
        for model, ids in ((CarePlan, care_ids), (PatrolPlan, patrol_ids)):
            plans = db.session.execute(select(model).where(model.elder_id == elder.id, model.status == "paused")
                                       .order_by(model.id)).scalars().all()
            for plan in plans:
                plan.status = "active"
                plan.revision += 1
                plan.revised_at = _resumed_from(plan, today=today, now=now)
                plan.updated_at = now
                ids.append(plan.id)
        db.session.flush()
        if care_ids or patrol_ids:
            generate_tasks(now=now, care_plan_ids=care_ids, patrol_plan_ids=patrol_ids)
    return len(elders)


def _resumed_from(plan, *, today: date, now: datetime) -> datetime:
    """From when a resumed plan's visits are due again. A care plan: from now on. A patrol plan:
    from the start of the current period, as a new plan would, since its task of that period was
    cancelled with the others (an elder back from hospital is visited, not skipped to next period)."""
    if isinstance(plan, CarePlan):
        return now
    first, _ = period_bounds(current_app.config["PATROL_FREQUENCY"][plan.effective_tier], today)
    return local_midnight(max(first, plan.starts_on))


# ------------------------------------------------------------------ rules and helpers

def _check_return(kind: str, returns_on: date | None, today: date) -> None:
    if kind == "in_hospital" and returns_on is not None and returns_on <= today:
        raise ValidationFailed("returns_on", _l("must be after today"))


def _check_decidable(report: StatusReport, by: User, version: int | None) -> None:
    if by.role not in ("admin", "supervisor"):
        raise Forbidden(_l("only a supervisor of the elder's region or an admin may decide on a status report"))
    if report.state != "pending":
        raise Conflict(_l("The status report is already %(state)s", state=label("report_state", report.state)),
                       code="status_report_decided",
                       status=409)
    check_version(report, version, what="status report")


def _stop_plans(elder: Elder, *, pause: bool, today: date, at: datetime) -> dict:
    """End (or pause) the elder's active plans; an ended plan's last day of service is today."""
    stopped = {}
    for model, name in ((CarePlan, "care_plan_ids"), (PatrolPlan, "patrol_plan_ids")):
        states = ("active",) if pause else ("active", "paused")
        plans = db.session.execute(select(model).where(model.elder_id == elder.id, model.status.in_(states))
                                   .order_by(model.id)).scalars().all()
        for plan in plans:
            plan.status = "paused" if pause else "ended"
            if not pause and (plan.ends_on is None or plan.ends_on > today):
                plan.ends_on = today
            plan.updated_at = at
        stopped[name] = [plan.id for plan in plans]
    return stopped


def _cancel_open_tasks(elder: Elder, *, reason: str, by: User, at: datetime) -> list[int]:
    """Cancel every task of the elder nobody has started whose window has not closed: the plan's
    and make-up visits alike. Each keeps its reason and a task event; phones see it removed."""
    tasks = db.session.execute(select(Task).where(Task.elder_id == elder.id, Task.status == "scheduled",
                                                  Task.window_end_at > at).order_by(Task.id)
                               .with_for_update()).scalars().all()
    for task in tasks:
        cancel(task, at=at, reason=reason, by=by)
    return [task.id for task in tasks]


def _decide(report: StatusReport, state: str, *, by: User, at: datetime, note: str | None) -> None:
    note = (note or "").strip() or None
    report.state = state
    report.decided_by_id = by.id
    report.decided_at = at
    report.decision_note = note
    report.updated_at = at
    followup = db.session.get(Followup, report.followup_id) if report.followup_id else None
    if followup is not None and followup.status in ACTIVE:
        code = "status_confirmed" if state == "confirmed" else "status_rejected"
        followup.status = "resolved"
        followup.resolved_at = at
        followup.resolved_by_id = by.id
        followup.resolution_code = code
        followup.resolution_note = note
        db.session.add(FollowupEvent(followup_id=followup.id, at=at, action="resolved", by_user_id=by.id,
                                     note=note, data={"resolution_code": code, "status_report_id": report.id}))
    db.session.flush()


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
