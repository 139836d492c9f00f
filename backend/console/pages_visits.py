"""Console pages of the visit log: the filtered list with keyset paging, its CSV/XLSX exports, and a
visit's history with the review form (and, for admins, the unlock form of a locked decision).

Rows come from the visit-log queries with the signed-in user and the API's own filter schema, so
scope and every filter mean what they mean in /api/v1/audit/visits.
"""

from datetime import timedelta

from flask import Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from backend.clock import local_today, utcnow
from backend.console.display import N_, problem_message, region_choices, service_type_name, user_names
from backend.console.forms import invalid_fields_message, load_query
from backend.console.session import CONSOLE_ROLES, console_login_required, open_to_provider_managers
from backend.console.views import bp, page
from backend.errors import NotFound, Problem
from backend.extensions import db
from backend.media import services as media
from backend.media.views import image_response
from backend.plans.models import ServiceType
from backend.providers.models import Provider
from backend.regions.models import Region
from backend.reviews import services as reviews
from backend.reviews.models import Review
from backend.scope import providers_clause, region_ids_clause, tasks_clause
from backend.tasks.models import Task
from backend.users.models import User
from backend.users.services import visible_users_clause
from backend.visitlog import export, queries, services
from backend.visitlog.views import export_download
from schemas.reviews import REASON_CODES, REVIEW_DECISIONS
from schemas.visitlog import VERIFICATION_STATES, VISIT_FLAGS, VisitFilterArgs
from schemas.vocab import TASK_KINDS, TASK_STATUSES

PAGE_SIZE = 50
FIELD_NAMES = {"date_from": N_("From"), "date_to": N_("To"), "region_id": N_("Region"),
               "provider_id": N_("Provider"), "caregiver_id": N_("Caregiver"),
               "community_worker_id": N_("Community worker"), "service_type": N_("Service"),
               "kind": N_("Kind"), "status": N_("Status"), "flag": N_("Flag"), "verification": N_("Verification"),
               "verification_state": N_("Verification state"), "cursor": N_("Page")}
SINGLE = ("date_from", "date_to", "region_id", "provider_id", "caregiver_id", "community_worker_id", "elder_id",
          "service_type", "kind", "flag", "verification", "verification_state")

page("console.visit_log", N_("Visit log"), N_("Every visit that came due, with its evidence; filter and export."),
     order=10, roles=CONSOLE_ROLES)


@bp.get("/visits")
@console_login_required
@open_to_provider_managers
def visit_log():
    args, errors, query = _filters()
    rows, next_cursor = [], None
    if not errors:
        try:
            after = queries.decode_cursor(request.args["cursor"]) if request.args.get("cursor") else None
            found = queries.visit_page(g.user, queries.Filters.from_args(args), now=utcnow(), after=after,
                                       limit=PAGE_SIZE)
            rows, next_cursor = found["items"], found["next_cursor"]
        except Problem as problem:
            errors = {next(iter(problem.errors)) if problem.errors else "region_id": [problem_message(problem)]}
    error = invalid_fields_message(errors, FIELD_NAMES) if errors else None
    return render_template("console/visits.html", rows=rows, query=query, error=error, options=_options(),
                           next_url=url_for(".visit_log", **query, cursor=next_cursor) if next_cursor else None,
                           first_url=url_for(".visit_log", **query) if request.args.get("cursor") else None,
                           export_urls={fmt: url_for(f".visits_{fmt}", **query) for fmt in export.FORMATS}), \
        422 if error else 200


@bp.get("/visits.csv")
@console_login_required
@open_to_provider_managers
def visits_csv():
    return _export("csv")


@bp.get("/visits.xlsx")
@console_login_required
@open_to_provider_managers
def visits_xlsx():
    return _export("xlsx")


@bp.get("/visits/<int:task_id>")
@console_login_required
@open_to_provider_managers
def visit_history(task_id):
    return _history_page(task_id)


@bp.get("/media/<sha256>")
@console_login_required
@open_to_provider_managers
def visit_media(sha256):
    """A visit's signature image or photo, to whoever may see one of its visits; each look is
    recorded in the audit trail, as the API's GET is."""
    return image_response(sha256, g.user)


@bp.post("/visits/<int:task_id>/review")
@console_login_required
def review_visit(task_id):
    task = db.session.execute(select(Task).where(Task.id == task_id, tasks_clause(g.user))).scalar_one_or_none()
    if task is None:
        raise NotFound("visit")
    form = {name: request.form.get(name, "").strip() for name in ("decision", "reason_code", "comment")}
    try:
        if form["decision"] not in REVIEW_DECISIONS:
            raise Problem("validation_failed", errors={"reason_code": [_l("choose a decision")]})
        reviews.decide(task, form["decision"], form["reason_code"], form["comment"], by=g.user, at=utcnow())
    except Problem as problem:
        db.session.rollback()
        return _history_page(task_id, error=problem_message(problem), form=form, status=problem.code)
    db.session.commit()
    flash(_("Decision recorded."))
    return redirect(url_for(".visit_history", task_id=task_id))


@bp.post("/visits/<int:task_id>/unlock")
@console_login_required
def unlock_review(task_id):
    task = db.session.execute(select(Task).where(Task.id == task_id, tasks_clause(g.user))).scalar_one_or_none()
    review = reviews.current_review(task.id, for_update=True) if task is not None else None
    if review is None:
        raise NotFound("review")
    try:
        reviews.unlock(review, request.form.get("reason", ""), by=g.user, at=utcnow())
    except Problem as problem:
        db.session.rollback()
        return _history_page(task_id, error=problem_message(problem), status=problem.code)
    db.session.commit()
    flash(_("Decision unlocked: a new decision may now replace it."))
    return redirect(url_for(".visit_history", task_id=task_id))


# ------------------------------------------------------------------ the list

def _filters() -> tuple[dict, dict, dict]:
    """(loaded filters, errors, the query string to repeat in links). Dates default to yesterday."""
    source = request.args.copy()
    if "date_from" not in source and "date_to" not in source:
        yesterday = (local_today(utcnow()) - timedelta(days=1)).isoformat()
        source["date_from"] = source["date_to"] = yesterday
    args, errors = load_query(VisitFilterArgs(), lists=("status",), source=source)
    query = {name: source.get(name, "") for name in SINGLE if source.get(name) or name.startswith("date_")}
    if statuses := [value for value in source.getlist("status") if value]:
        query["status"] = statuses
    return args, errors, query


def _options() -> dict:
    """The filter form's choices, each (value, shown), within the user's scope."""
    user = g.user
    regions = db.session.execute(select(Region).where(region_ids_clause(user, Region.id))
                                 .order_by(Region.path)).scalars().all()
    people = db.session.execute(
        select(User).where(User.role.in_(("caregiver", "community_worker")), visible_users_clause(user))
        .order_by(User.username)).scalars().all()
    service_types = db.session.execute(select(ServiceType).where(ServiceType.is_active.is_(True))
                                       .order_by(ServiceType.code)).scalars()
    return {
        "regions": region_choices(regions),
        "providers": [(p.id, p.name) for p in db.session.execute(
            select(Provider).where(providers_clause(user)).order_by(Provider.name)).scalars()],
        "caregivers": [(u.id, u.display_name or u.username) for u in people if u.role == "caregiver"],
        "community_workers": [(u.id, u.display_name or u.username) for u in people if u.role == "community_worker"],
        "service_types": [(t.code, service_type_name(t)) for t in service_types],
        "kinds": TASK_KINDS, "statuses": TASK_STATUSES, "flags": VISIT_FLAGS,
        "verification_states": VERIFICATION_STATES,
        "verifications": [("unverified", _("Unverified")), ("needs_review", _("Needs review")),
                          ("verified", _("Verified"))],
    }


# ------------------------------------------------------------------ exports

def _export(fmt: str) -> Response:
    args, errors, query = _filters()
    if errors:
        return redirect(url_for(".visit_log", **query))
    return export_download(g.user, fmt, args)


# ------------------------------------------------------------------ one visit

def _history_page(task_id: int, *, error: str | None = None, form: dict | None = None, status: int = 200):
    row = queries.visit_row(g.user, task_id)
    if row is None:
        raise NotFound("visit")
    task = db.session.get(Task, task_id)
    decisions = db.session.execute(reviews.history(task)).scalars().all()
    current = next((review for review in decisions if review.is_current), None)
    now = utcnow()
    history = services.visit_history(task)
    evidence = _evidence(history)
    worker = db.session.get(User, row["caregiver_id"]) if row["caregiver_id"] else None
    return render_template(
        "console/visit.html", row=row, task=task, history=history, evidence=evidence,
        **_images(task, evidence),
        worker_role=worker.role if worker else ("community_worker" if row["kind"] == "patrol" else "caregiver"),
        decisions=decisions, current=current, locked=current is not None and current.is_locked_at(now),
        has_visit=row["performed_by_id"] is not None, reason_codes=REASON_CODES, decisions_vocab=REVIEW_DECISIONS,
        form=form or {}, error=error, users=_names(decisions)), status


def _evidence(history: list[dict]) -> list[tuple[str, dict]]:
    """What the visit's accepted items say, for the summary: the last check-out and patrol report
    (a later one replaces an earlier), and every note, as (item type, payload)."""
    last: dict[str, dict] = {}
    notes = []
    for entry in history:
        details = entry["details"]
        if entry["kind"] != "item_accepted" or not isinstance(details.get("payload"), dict):
            continue
        if details["type"] == "note":
            notes.append(("note", details["payload"]))
        elif details["type"] in ("check_out", "patrol_report"):
            last[details["type"]] = details["payload"]
    return list(last.items()) + notes


def _images(task: Task, evidence: list[tuple[str, dict]]) -> dict:
    """The visit's images, each as (media, "signature" or "photo"), and whether the signature image the
    check-out names by hash is still missing (not uploaded yet)."""
    signature = next(((payload.get("signature") or {}).get("image_sha256")
                      for kind, payload in evidence if kind == "check_out"), None)
    held = media.of_task(task)
    images = [(image, "signature" if image.sha256 == signature else "photo") for image in held]
    return {"images": sorted(images, key=lambda shown: shown[1] != "signature"),  # the signature first
            "signature_missing": bool(signature) and signature not in {image.sha256 for image in held}}


def _names(decisions: list[Review]) -> dict[int, str]:
    return user_names([r.decided_by_id for r in decisions] + [r.unlocked_by_id for r in decisions])
