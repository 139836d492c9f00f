"""How the console shows things: names of coded values in the reader's language, local times,
durations and rates, and problems raised by the services as sentences.

Names are msgids marked with N_ (extracted by pybabel, translated when shown), so the tables
below can live at import time, outside any request.
"""

import json
from datetime import date, datetime

from flask import current_app, g
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from backend.clock import care_tz
from backend.errors import CATALOG, Problem
from backend.extensions import db
from backend.plans.models import ServiceType
from backend.users.models import User


def N_(msgid: str) -> str:
    """Mark a string for translation without translating it yet."""
    return msgid


LABELS: dict[str, dict[str, str]] = {
    "task_status": {"scheduled": N_("Scheduled"), "in_progress": N_("In progress"), "completed": N_("Completed"),
                    "missed": N_("Missed"), "cancelled": N_("Cancelled")},
    "task_kind": {"service": N_("Home service"), "patrol": N_("Patrol visit")},
    "flag": {
        "qr_verified": N_("QR verified"), "dynamic_code_verified": N_("Door code verified"),
        "qr_missing": N_("No QR scan"), "qr_invalid": N_("Invalid QR"), "qr_wrong_elder": N_("Another elder's QR"),
        "qr_revoked": N_("Revoked plate"), "outside_geofence": N_("Outside geofence"),
        "no_location": N_("No location"), "clock_skew": N_("Device clock off"),
        "future_capture": N_("Captured in the future"), "before_task_created": N_("Before the task existed"),
        "outside_window": N_("Outside the time window"), "out_of_order": N_("Out of order"),
        "too_short": N_("Too short"), "check_out_without_check_in": N_("Check-out without check-in"),
        "duplicate_check_in": N_("Duplicate check-in"), "task_cancelled": N_("Task cancelled"),
        "task_reassigned": N_("Task reassigned"), "late_sync": N_("Late sync"),
    },
    "decision": {"approved": N_("Approve"), "rejected": N_("Reject"),
                 "explanation_requested": N_("Ask for an explanation")},
    "decided": {"approved": N_("Approved"), "rejected": N_("Rejected"),
                "explanation_requested": N_("Explanation requested")},
    "reason": {
        "evidence_sufficient": N_("Evidence sufficient"), "explained_acceptably": N_("Explained acceptably"),
        "device_problem_verified": N_("Device problem confirmed"), "confirmed_by_elder": N_("Confirmed by the elder"),
        "other": N_("Other (say what)"), "no_presence_evidence": N_("No presence evidence"),
        "duration_too_short": N_("Duration too short"), "visit_did_not_happen": N_("The visit did not happen"),
        "duplicate_claim": N_("Duplicate claim"), "wrong_elder": N_("Wrong elder"),
        "no_explanation_given": N_("No explanation given"), "missing_qr": N_("QR scan missing"),
        "clock_problem": N_("Clock problem"), "duration_short": N_("Duration short"),
        "wrong_plate": N_("Wrong door plate"), "offline_change": N_("Changed while offline"),
        "outside_geofence": N_("Outside geofence"),
    },
    "followup_kind": {"missed_visit": N_("Missed visit"), "unverified_visit": N_("Unverified visit"),
                      "patrol_concern": N_("Patrol concern"), "welfare_check": N_("Welfare check"),
                      "reassessment": N_("Reassessment"), "worker_pattern": N_("Worker pattern")},
    "followup_status": {"open": N_("Open"), "claimed": N_("Claimed"), "resolved": N_("Resolved")},
    "priority": {"normal": N_("Normal"), "high": N_("High"), "urgent": N_("Urgent")},
    "resolution": {
        "elder_in_hospital": N_("Elder in hospital"), "elder_refused": N_("Elder refused"),
        "elder_not_at_home": N_("Elder not at home"), "caregiver_absent": N_("Caregiver absent"),
        "rescheduled": N_("Rescheduled (make-up visit)"), "visited_late_evidence": N_("Visited; evidence late"),
        "visited_evidence_lost": N_("Visited; evidence lost"), "false_alarm": N_("False alarm"),
        "other": N_("Other (say what)"),
    },
    "followup_action": {"opened": N_("Opened"), "claimed": N_("Claimed"), "commented": N_("Commented"),
                        "escalated": N_("Escalated"), "resolved": N_("Resolved"),
                        "auto_resolved": N_("Resolved automatically"), "reopened": N_("Reopened")},
    "history": {"task_created": N_("Task created"), "item_accepted": N_("Item received"),
                "duplicate_received": N_("Duplicate received"), "item_quarantined": N_("Item quarantined"),
                "state_changed": N_("State changed"), "followup_event": N_("Follow-up"),
                "review": N_("Review decision"), "review_unlocked": N_("Decision unlocked")},
    "item_type": {"check_in": N_("Check-in"), "check_out": N_("Check-out"), "patrol_report": N_("Patrol report"),
                  "note": N_("Note")},
    "callback_status": {"pending": N_("To call"), "done": N_("Reached"), "unreachable": N_("Unreachable"),
                        "cancelled": N_("Cancelled by a redraw")},
    "category": {"solitary": N_("Solitary"), "empty_nest": N_("Empty-nest"), "left_behind": N_("Left-behind"),
                 "special_family": N_("Special family-planning family"), "low_income": N_("Low income"),
                 "extreme_poverty": N_("Extreme poverty"), "advanced_age": N_("Advanced age (80+)"),
                 "disabled": N_("Disabled or partly disabled")},
    "risk_tier": {"high": N_("High risk"), "key": N_("Key group"), "general": N_("General")},
    "gender": {"male": N_("Male"), "female": N_("Female")},
    "level": {"district": N_("District"), "street": N_("Street"), "community": N_("Community")},
    "capability": {"0": N_("Intact"), "1": N_("Mild loss"), "2": N_("Moderate loss"), "3": N_("Severe loss"),
                   "4": N_("Complete loss")},
    "plate_status": {"active": N_("Active"), "revoked": N_("Revoked")},
    "plate_kind": {"static": N_("Static QR"), "dynamic": N_("Dynamic code")},
    "plan_status": {"active": N_("Active"), "ended": N_("Ended")},
    "role": {"admin": N_("Administrator"), "supervisor": N_("Supervisor"), "caregiver": N_("Caregiver"),
             "community_worker": N_("Community worker")},
    "failed": {"satisfaction": N_("Satisfaction"), "verification": N_("Verification rate")},
    "weekday": {"1": N_("Mon"), "2": N_("Tue"), "3": N_("Wed"), "4": N_("Thu"), "5": N_("Fri"), "6": N_("Sat"),
                "7": N_("Sun")},
    "period": {"week": N_("every week"), "month": N_("every month"), "quarter": N_("every quarter")},
    "patrol_mode": {"door": N_("at the door"), "phone": N_("by phone")},
}


def label(group: str, code) -> str:
    """The reader's name for a coded value; the code itself when it has none."""
    if code is None:
        return "—"
    msgid = LABELS.get(group, {}).get(str(code))
    return _(msgid) if msgid else str(code)


def choices(group: str, codes=None) -> list[tuple[str, str]]:
    """(code, name) pairs for a select, in the given order or the table's."""
    return [(code, label(group, code)) for code in (codes or LABELS[group])]


def region_choices(regions) -> list[tuple[int, str]]:
    """Regions for a select, indented by level under their parents (pass them ordered by path)."""
    indent = {"district": "", "street": "\u3000", "community": "\u3000\u3000"}
    return [(region.id, indent.get(region.level, "") + region.name) for region in regions]


def service_type_name(service_type) -> str:
    return service_type.name_en if str(get_locale()) == "en" else service_type.name_zh


def service_name(code: str | None) -> str:
    """A service type's name from its code, the names read once per request."""
    if not code:
        return "—"
    names = g.get("_service_names")
    if names is None:
        names = g._service_names = {t.code: service_type_name(t)
                                    for t in db.session.execute(select(ServiceType)).scalars()}
    return names.get(code, code)


def user_names(ids) -> dict[int, str]:
    """Display names of the given user ids (None ignored), in one query."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {user.id: user.display_name or user.username
            for user in db.session.execute(select(User).where(User.id.in_(ids))).scalars()}


def recurrence(rule: dict) -> str:
    """A care plan item's schedule in words: "Weekly: Tue, Fri 09:00–11:00"."""
    hours = f"{rule.get('start', '')}–{rule.get('end', '')}"
    if rule.get("freq") == "weekly":
        days = ", ".join(label("weekday", n) for n in rule.get("weekdays", ()))
        return _("Weekly: %(days)s %(hours)s", days=days, hours=hours)
    if rule.get("freq") == "monthly":
        days = ", ".join(str(n) for n in rule.get("monthdays", ()))
        return _("Monthly on day %(days)s %(hours)s", days=days, hours=hours)
    return _("Daily %(hours)s", hours=hours)


def local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(care_tz()).strftime(fmt)


def hm(value: datetime | None) -> str:
    return local(value, "%H:%M")


def day(value: date | None) -> str:
    return value.isoformat() if value else "—"


def minutes(seconds: int | None) -> str:
    return "—" if seconds is None else _("%(n)s min", n=round(seconds / 60))


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def number(value, digits: int = 2) -> str:
    if value is None:
        return "—"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


# Field-level reasons the services give, as sentences for a person.
_FIELD_MESSAGES = {
    "reason_code": N_("Choose a reason that belongs to the decision."),
    "comment": N_("A comment is required when the reason is Other."),
    "note": N_("A note is required when the reason is Other."),
    "reason": N_("Give a reason."),
    "text": N_("Write a comment first."),
    "reschedule": N_("A make-up visit needs its time window."),
    "reschedule.window_end_at": N_("The make-up window must end after it starts, and in the future."),
    "reschedule.assignee_id": N_("The make-up visit needs an active caregiver or community worker."),
    "month": N_("Choose a month that has ended."),
    "confirmed": N_("Say whether the elder confirmed the visit (only when reached)."),
    "share": N_("The share must be more than 0 and at most 1."),
}


def problem_message(problem: Problem) -> str:
    """One sentence for a problem a service raised, in the reader's language."""
    if problem.problem_code == "validation_failed" and problem.errors:
        field = next(iter(problem.errors))
        if field in _FIELD_MESSAGES:
            return _(_FIELD_MESSAGES[field])
    _status, zh_title, en_title = CATALOG.get(problem.problem_code, (problem.code, "错误", "Error"))
    return en_title if str(get_locale()) == "en" else zh_title


def template_helpers() -> dict:
    return {"label": label, "choices": choices, "region_choices": region_choices, "service_name": service_name,
            "recurrence": recurrence, "care_timezone": lambda: current_app.config["CARE_TIMEZONE"],
            "patrol_period": lambda tier: label("period", current_app.config["PATROL_FREQUENCY"].get(tier))}


def pretty(value) -> str:
    """JSON for people: indented, Chinese as written."""
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)


FILTERS = {"pretty": pretty, "local": local, "hm": hm, "day": day, "minutes": minutes, "percent": percent,
           "number": number}
