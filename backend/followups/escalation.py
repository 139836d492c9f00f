"""Escalation: unresolved follow-ups past their due time move up their kind's escalation steps.

Each step (FOLLOWUP_RULES[kind]["escalate"], in order) names a target and how long the new owner
has. Past due with a step left: the follow-up goes to the step's target, the new owner is told
("escalated") and so is the previous one ("overdue"). Past due with no step left: the owner is told
once that it is overdue, and the follow-up is marked so later runs do not read it again.

Only due rows are read, through a partial index, in batches locked with SKIP LOCKED, so a run
never waits on a person resolving a follow-up at that moment, and two runs never step one row twice.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from backend.extensions import db
from backend.followups.models import Followup, FollowupEvent
from backend.followups.services import notify, region_supervisor
from backend.providers.models import Provider
from backend.users.models import User

BATCH = 500


@dataclass
class EscalationResult:
    escalated: int = 0
    overdue: int = 0


def escalate_overdue(*, now: datetime) -> EscalationResult:
    """Step every due follow-up once. The caller commits."""
    result = EscalationResult()
    while True:
        rows = db.session.execute(
            select(Followup).where(Followup.status.in_(("open", "claimed")), Followup.overdue_notified_at.is_(None),
                                   Followup.due_at <= now)
            .order_by(Followup.due_at, Followup.id).limit(BATCH).with_for_update(skip_locked=True)
        ).scalars().all()
        for followup in rows:
            steps = current_app.config["FOLLOWUP_RULES"][followup.kind]["escalate"]
            if followup.escalation_level < len(steps):
                _escalate(followup, steps[followup.escalation_level], now)
                result.escalated += 1
            else:
                _report_overdue(followup, now)
                result.overdue += 1
        db.session.flush()
        if len(rows) < BATCH:
            return result


def _escalate(followup: Followup, step: dict, now: datetime) -> None:
    previous = followup.owner_id
    target = escalation_target(followup, step["to"])
    followup.escalation_level += 1
    followup.owner_id = target.id if target else previous
    if followup.owner_id != previous:  # the new owner has not taken it on yet
        followup.claimed_by_id = None
        followup.status = "open"
    followup.due_at = now + timedelta(minutes=step["due_minutes"])
    level = followup.escalation_level
    db.session.add(FollowupEvent(followup_id=followup.id, at=now, action="escalated", by_system="escalation",
                                 data={"level": level, "to": step["to"], "from_owner_id": previous,
                                       "to_owner_id": followup.owner_id}))
    if previous is not None:
        notify(previous, "overdue", at=now, followup=followup, step=str(level - 1),
               title="跟进事项已逾期并上报：" + followup.summary)
    if followup.owner_id is not None and followup.owner_id != previous:
        notify(followup.owner_id, "escalated", at=now, followup=followup, step=str(level),
               title="逾期跟进事项已上报给您：" + followup.summary, body=_contacts_line(followup))


def _report_overdue(followup: Followup, now: datetime) -> None:
    followup.overdue_notified_at = now
    if followup.owner_id is not None:
        notify(followup.owner_id, "overdue", at=now, followup=followup, step=str(followup.escalation_level),
               title="跟进事项已逾期：" + followup.summary)


def escalation_target(followup: Followup, target: str) -> User | None:
    """Who a step hands the follow-up to. Targets: region_supervisor (of the elder's community, or
    for worker patterns of the provider's region), provider_manager, admin. Anyone unfound → an admin."""
    user = None
    if target == "region_supervisor":
        region_id = followup.region_id
        if region_id is None and followup.provider_id is not None:
            region_id = db.session.get(Provider, followup.provider_id).region_id
        user = region_supervisor(region_id)
    elif target == "provider_manager" and followup.provider_id is not None:
        manager_id = db.session.get(Provider, followup.provider_id).manager_id
        user = db.session.get(User, manager_id) if manager_id else None
    elif target not in ("admin", "provider_manager"):
        raise ValueError(f"FOLLOWUP_RULES: unknown escalation target {target!r}")
    if user is None or not user.is_active:
        user = db.session.execute(select(User).where(User.role == "admin", User.is_active.is_(True))
                                  .order_by(User.id).limit(1)).scalar_one_or_none()
    return user


def _contacts_line(followup: Followup) -> str:
    """Welfare checks carry the elder's emergency contacts to whoever must act next."""
    if followup.kind != "welfare_check" or followup.elder is None:
        return ""
    contacts = followup.elder.emergency_contacts or []
    return "紧急联系人：" + "；".join(
        f"{c.get('name', '')} {c.get('phone', '')}".strip() for c in contacts if isinstance(c, dict))
