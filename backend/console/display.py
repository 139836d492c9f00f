"""How the console shows things: names of coded values in the reader's language, local times,
durations and rates, and problems raised by the services as sentences.

Names are msgids marked with N_ (extracted by pybabel, translated when shown), so the tables
below can live at import time, outside any request.
"""

import json
from datetime import date, datetime, time, timedelta

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
        "task_reassigned": N_("Task reassigned"), "late_upload": N_("Uploaded a day late"),
        "after_missed": N_("Completed after marked missed"),
        "overlapping_visit": N_("Overlaps another visit"), "impossible_travel": N_("Impossible travel"),
    },
    # backend/reviews/verification.py: evidence and the current review decision together.
    "verification_state": {"verified_automatically": N_("Verified automatically"),
                           "verified_on_review": N_("Verified on review"),
                           "rejected_on_review": N_("Rejected on review"),
                           "awaiting_review": N_("Awaiting review"), "unverified": N_("Unverified")},
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
    # unverified_visit holds every visit a review flag sends to the queue, verified but too short included.
    "followup_kind": {"missed_visit": N_("Missed visit"), "unverified_visit": N_("Visit to review"),
                      "patrol_concern": N_("Patrol concern"), "welfare_check": N_("Welfare check"),
                      "reassessment": N_("Reassessment"), "worker_pattern": N_("Worker pattern"),
                      "register_change": N_("Register change to confirm")},
    "followup_status": {"open": N_("Open"), "claimed": N_("Claimed"), "resolved": N_("Resolved")},
    "priority": {"normal": N_("Normal"), "high": N_("High"), "urgent": N_("Urgent")},
    "resolution": {
        "elder_in_hospital": N_("Elder in hospital"), "elder_refused": N_("Elder refused"),
        "elder_not_at_home": N_("Elder not at home"), "caregiver_absent": N_("Caregiver absent"),
        "rescheduled": N_("Rescheduled (make-up visit)"), "visited_late_evidence": N_("Visited; evidence late"),
        "visited_evidence_lost": N_("Visited; evidence lost"), "false_alarm": N_("False alarm"),
        "other": N_("Other (say what)"),
        "status_confirmed": N_("Report confirmed"), "status_rejected": N_("Report rejected"),
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
    # backend/elders/risk.py: why a tier is suggested.
    "risk_reason": {"severe_capability_loss": N_("Severe or complete loss of capability (level 3 or more)"),
                    "alone_with_moderate_loss": N_("Solitary or special family with moderate loss (level 2 or more)"),
                    "key_category": N_("In a group named for regular visits"),
                    "advanced_age": N_("Aged 80 or more"),
                    "capability_loss": N_("Some loss of capability (level 1 or more)")},
    "gender": {"male": N_("Male"), "female": N_("Female")},
    "id_document_type": {"resident_id": N_("Resident ID card"),
                         "hmt_residence_permit": N_("Hong Kong/Macao/Taiwan residence permit"),
                         "foreign_permanent_residence": N_("Foreigner's permanent residence ID card"),
                         "passport": N_("Passport")},
    "level": {"city": N_("City"), "district": N_("District"), "street": N_("Street"), "community": N_("Community")},
    "capability": {"0": N_("Intact"), "1": N_("Mild loss"), "2": N_("Moderate loss"), "3": N_("Severe loss"),
                   "4": N_("Complete loss")},
    "plate_status": {"active": N_("Active"), "revoked": N_("Revoked")},
    "plate_kind": {"static": N_("Static QR"), "dynamic": N_("Dynamic code")},
    "plan_status": {"active": N_("Active"), "paused": N_("Paused"), "ended": N_("Ended")},
    "elder_status": {"active": N_("In the register"), "suspended": N_("In hospital, plans paused"),
                     "deceased": N_("Deceased"), "moved_out": N_("Moved out")},
    "status_report": {"deceased": N_("Deceased"), "moved_out": N_("Moved out"), "in_hospital": N_("In hospital")},
    "report_state": {"pending": N_("Awaiting confirmation"), "confirmed": N_("Confirmed by the supervisor"),
                     "rejected": N_("Rejected by the supervisor")},
    "role": {"admin": N_("Administrator"), "supervisor": N_("Supervisor"), "caregiver": N_("Caregiver"),
             "community_worker": N_("Community worker"), "provider_manager": N_("Provider manager")},
    "rectification_status": {"open": N_("Awaiting the provider's response"), "responded": N_("Responded"),
                             "accepted": N_("Put right, accepted"), "escalated": N_("Escalated for action")},
    "rectification_source": {"monthly_list": N_("Monthly rectification list"), "ad_hoc": N_("Ad hoc")},
    "rectification_action": {"issued": N_("Order issued"), "responded": N_("Responded"),
                             "accepted": N_("Accepted as put right"), "extended": N_("Deadline extended"),
                             "escalated": N_("Escalated for action")},
    "failed": {"satisfaction": N_("Satisfaction"), "verification": N_("Verification rate")},
    "satisfaction_source": {"callback": N_("Call-backs"), "check_out": N_("Check-out ratings")},
    "weekday": {"1": N_("Mon"), "2": N_("Tue"), "3": N_("Wed"), "4": N_("Thu"), "5": N_("Fri"), "6": N_("Sat"),
                "7": N_("Sun")},
    "period": {"week": N_("every week"), "month": N_("every month"), "quarter": N_("every quarter")},
    "patrol_mode": {"door": N_("at the door"), "phone": N_("by phone")},
    # What a phone reports (schemas/sync.py): services done or not, who signed, a patrol's findings.
    "service_outcome": {"done": N_("Done"), "refused": N_("Refused"), "not_needed": N_("Not needed")},
    "signer": {"elder": N_("Signed by the elder"), "family": N_("Signed by family"), "none": N_("Nobody signed")},
    "patrol_outcome": {"seen_well": N_("Seen, well"), "seen_needs_help": N_("Seen, needs help"),
                       "not_at_home": N_("Not at home"), "no_answer": N_("No answer at the door"),
                       "in_hospital": N_("In hospital"), "moved": N_("Moved away"), "deceased": N_("Deceased")},
    "observation": {"health": N_("Health"), "mental_state": N_("Mental state"), "hygiene": N_("Hygiene"),
                    "living_conditions": N_("Living conditions"), "needs": N_("Needs")},
    "safety": {"gas": N_("Gas"), "water": N_("Water"), "electricity": N_("Electricity")},
    "safety_state": {"ok": N_("Safe"), "hazard": N_("Hazard")},
    "care_risk": {"fall": N_("Fall"), "choking": N_("Choking"), "self_harm": N_("Self-harm"),
                  "wandering": N_("Wandering off"), "other": N_("Other care-risk event")},
}

# How a chip reads at a glance: good news green, doubts orange (the default), problems red.
GOOD_FLAGS = frozenset(("qr_verified", "dynamic_code_verified"))
PROBLEM_FLAGS = frozenset(("qr_missing", "qr_invalid", "qr_wrong_elder", "qr_revoked", "outside_geofence",
                           "future_capture", "check_out_without_check_in", "task_cancelled", "task_reassigned",
                           "overlapping_visit", "impossible_travel"))
_TONES = {"service_outcome": {"done": "good", "refused": "problem", "not_needed": "neutral"},
          "patrol_outcome": {"seen_well": "good", "seen_needs_help": "problem", "not_at_home": "warn",
                             "no_answer": "problem", "in_hospital": "warn", "moved": "warn", "deceased": "problem"},
          "safety_state": {"ok": "good", "hazard": "problem"},
          "signer": {"elder": "good", "family": "good", "none": "warn"},
          "verification_state": {"verified_automatically": "good", "verified_on_review": "good",
                                 "rejected_on_review": "problem", "awaiting_review": "warn", "unverified": "warn"},
          "care_risk": dict.fromkeys(LABELS["care_risk"], "problem")}


def tone(group: str, code) -> str:
    """The chip class of a coded value: good, neutral, warn or problem."""
    if group == "flag":
        return "good" if code in GOOD_FLAGS else "problem" if code in PROBLEM_FLAGS else "warn"
    return _TONES.get(group, {}).get(str(code), "neutral")


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
    """Regions for a select, indented by depth under their parents (pass them ordered by path): a
    district under a city one step further than a district standing alone."""
    return [(region.id, "\u3000" * max(region.path.count("/") - 2, 0) + region.name) for region in regions]


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


def window(start: datetime | None, end: datetime | None, short: bool = False) -> str:
    """A task's window with both ends readable: "2026-11-22 11:00–13:00" within a day,
    "2026-11-30 至 12-06" for whole days (a patrol's week or month), else both ends in full."""
    if start is None or end is None:
        return "—"
    start, end = (datetime.fromisoformat(v) if isinstance(v, str) else v for v in (start, end))
    start, end = start.astimezone(care_tz()), end.astimezone(care_tz())
    year = "" if short else "%Y-"
    if start.date() == end.date() or (end - start <= timedelta(days=1) and end.time() == time(0)
                                       and start.time() != time(0)):
        return f"{start:{year}%m-%d %H:%M}–{end:%H:%M}"
    if start.time() == end.time() == time(0):
        last = (end - timedelta(days=1)).date()
        if last == start.date():
            return f"{start:{year}%m-%d}"
        tail = f"{last:%Y-%m-%d}" if last.year != start.year else f"{last:%m-%d}"
        return _("%(start)s to %(end)s", start=f"{start:{year}%m-%d}", end=tail)
    tail = f"{end:%Y-%m-%d %H:%M}" if end.year != start.year else f"{end:%m-%d %H:%M}"
    return _("%(start)s to %(end)s", start=f"{start:{year}%m-%d %H:%M}", end=tail)


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
    "returns_on": N_("A hospital stay needs its expected return date, after today."),
    "occurred_on": N_("The date it happened cannot be in the future."),
    "kind": N_("Choose what happened."),
}


def problem_message(problem: Problem) -> str:
    """One sentence for a problem a service raised, in the reader's language."""
    if problem.problem_code == "validation_failed" and problem.errors:
        field = next(iter(problem.errors))
        if field in _FIELD_MESSAGES:
            return _(_FIELD_MESSAGES[field])
    return _(CATALOG[problem.problem_code][1]) if problem.problem_code in CATALOG else _("Error")


def template_helpers() -> dict:
    return {"label": label, "tone": tone, "choices": choices, "region_choices": region_choices,
            "service_name": service_name, "recurrence": recurrence,
            "care_timezone": lambda: current_app.config["CARE_TIMEZONE"],
            "patrol_period": lambda tier: label("period", current_app.config["PATROL_FREQUENCY"].get(tier))}


def pretty(value) -> str:
    """JSON for people: indented, Chinese as written."""
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)


FILTERS = {"pretty": pretty, "local": local, "hm": hm, "window": window, "day": day, "minutes": minutes,
           "percent": percent, "number": number}
