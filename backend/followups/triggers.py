"""Follow-ups that evidence from the field opens or closes, as each pushed item is applied.

- a visit that needs review (QR or geofence failed, too short, clock skew, cancelled or
  reassigned offline, …) → unverified_visit, for the provider's manager or the region supervisor;
- a patrol that saw an elder needing help or a gas/water/electricity hazard → patrol_concern;
- nobody answering the door of a solitary or high-risk elder → welfare_check, urgent (2 hours,
  the community worker, emergency contacts attached) when the elder is both;
- two or more care-risk events in 30 days → reassessment (GB/T 42195 immediate reassessment);
- a patrol finding the elder deceased, moved away or in hospital → a status report, whose
  register_change follow-up asks the community's supervisor to confirm it (backend/register);
- evidence for a missed task arriving late → its missed_visit follow-up resolves itself.
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from backend.extensions import db
from backend.followups.models import CareRiskEvent
from backend.followups.services import auto_resolve, open_followup, region_supervisor
from backend.plans.models import CarePlan
from backend.providers.models import Provider
from backend.tasks.models import Task
from backend.visits.models import Visit, VisitItem
from sync import rules


def after_item(item: VisitItem, data: dict, task: Task, visit: Visit | None, *, at: datetime) -> None:
    if visit is not None and visit.needs_review:
        _unverified(task, visit, at)
    if item.type == "patrol_report":
        _patrol(item, data, task, at)


def after_late_evidence(task: Task, *, at: datetime) -> None:
    auto_resolve(f"missed_visit:task:{task.id}", code="visited_late_evidence", at=at,
                 note="check-in evidence for this visit arrived after it was marked missed")


def _owner_for(task: Task) -> tuple[int | None, int | None]:
    """(owner id, provider id): a service task's provider manager, else the region supervisor."""
    provider_id = None
    if task.care_plan_id is not None:
        plan = db.session.get(CarePlan, task.care_plan_id)
        provider = db.session.get(Provider, plan.provider_id)
        provider_id = provider.id
        if provider.manager_id is not None:
            return provider.manager_id, provider_id
    supervisor = region_supervisor(task.elder.community_id)
    return (supervisor.id if supervisor else None), provider_id


def _unverified(task: Task, visit: Visit, at: datetime) -> None:
    owner_id, provider_id = _owner_for(task)
    open_followup(kind="unverified_visit", dedupe_key=f"unverified_visit:task:{task.id}", owner_id=owner_id,
                  at=at, summary=f"{unverified_title(visit.flags)}：{task.elder.name}", elder_id=task.elder_id,
                  task_id=task.id,
                  subject_user_id=visit.user_id, provider_id=provider_id, region_id=task.elder.community_id,
                  details={"flags": list(visit.flags)})


# Flags that say presence at the door was not proven; the visit is unverified when any is raised.
_PRESENCE_FLAGS = frozenset((rules.QR_MISSING, rules.QR_INVALID, rules.QR_WRONG_ELDER, rules.QR_REVOKED,
                             rules.OUTSIDE_GEOFENCE, rules.CHECK_OUT_WITHOUT_CHECK_IN))


def unverified_title(flags) -> str:
    """The title a review follow-up opens with: what is wrong with the visit, not always "unverified"
    (a visit proven at the door that was only too short is a short visit)."""
    review = set(flags) & rules.REVIEW_FLAGS
    if review & _PRESENCE_FLAGS:
        return "上门记录未通过核验"
    if review == {rules.TOO_SHORT}:
        return "服务时长不足"
    return "上门记录需复核"


def _patrol(item: VisitItem, data: dict, task: Task, at: datetime) -> None:
    elder = task.elder
    outcome = data["outcome"]
    safety = (data.get("observations") or {}).get("safety") or {}
    hazards = sorted(name for name, state in safety.items() if state == "hazard")
    supervisor = region_supervisor(elder.community_id)
    if outcome == "seen_needs_help" or hazards:
        open_followup(kind="patrol_concern", dedupe_key=f"patrol_concern:item:{item.id}",
                      owner_id=supervisor.id if supervisor else None, at=at, priority="high",
                      summary=f"巡访发现需要帮助：{elder.name}", elder_id=elder.id, task_id=task.id,
                      subject_user_id=item.user_id, region_id=elder.community_id,
                      details={"outcome": outcome, "hazards": hazards,
                               "needs": (data.get("observations") or {}).get("needs")})
    solitary = "solitary" in elder.categories
    if outcome in ("no_answer", "not_at_home") and (solitary or elder.risk_tier == "high"):
        urgent = solitary and elder.risk_tier == "high"
        rules = current_app.config["FOLLOWUP_RULES"]["welfare_check"]
        minutes = rules["urgent_due_minutes"] if urgent else rules["due_minutes"]
        open_followup(kind="welfare_check", dedupe_key=f"welfare_check:task:{task.id}", owner_id=item.user_id,
                      at=at, priority="urgent" if urgent else "high", due_at=at + timedelta(minutes=minutes),
                      summary=f"巡访无人应答，需确认老人安全：{elder.name}", elder_id=elder.id, task_id=task.id,
                      region_id=elder.community_id,
                      details={"outcome": outcome, "emergency_contacts": elder.emergency_contacts,
                               "address": elder.address, "phone": elder.phone})
    if outcome in ("deceased", "moved", "in_hospital"):
        from backend.register.services import report_from_patrol  # the register builds on follow-ups

        report_from_patrol(item, outcome, elder=elder, at=at, observations=data.get("observations"))
    events = data.get("care_risk_events") or []
    for event in events:
        db.session.add(CareRiskEvent(elder_id=elder.id, kind=event["kind"], note=event.get("note"),
                                     occurred_on=event.get("occurred_on") or item.captured_at_corrected.date(),
                                     visit_item_id=item.id, reported_at=at))
    if events:
        db.session.flush()
        _maybe_reassess(elder, task, at, supervisor)


def _maybe_reassess(elder, task: Task, at: datetime, supervisor) -> None:
    since = at.date() - timedelta(days=30)
    recent = db.session.execute(select(func.count()).select_from(CareRiskEvent).where(
        CareRiskEvent.elder_id == elder.id, CareRiskEvent.occurred_on >= since)).scalar()
    if recent >= 2:
        open_followup(kind="reassessment", dedupe_key=f"reassessment:elder:{elder.id}:{at:%Y%m%d}",
                      owner_id=supervisor.id if supervisor else None, at=at, priority="high",
                      summary=f"30天内发生{recent}次照护风险事件，需立即重新评估：{elder.name}",
                      elder_id=elder.id, task_id=task.id, region_id=elder.community_id,
                      details={"events_30d": recent, "standard": "GB/T 42195-2022"})
