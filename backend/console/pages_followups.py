"""Console pages of follow-ups: the list with filters, and one follow-up with its events and the
forms to claim, comment on, resolve (with an optional make-up visit) and reopen it.

Scope and every rule are the follow-up services': the page only reads the form and shows what
the service said. Each form carries the version it was made from, so a stale page answers 409.
"""

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from backend.clock import utcnow
from backend.console.display import N_, problem_message, user_names
from backend.console.forms import integer, invalid_fields_message, load_query, local_datetime, repeated
from backend.console.session import CONSOLE_ROLES, console_login_required, open_to_provider_managers
from backend.console.views import bp, page
from backend.errors import NotFound, Problem, ValidationFailed
from backend.extensions import db
from backend.followups import actions
from backend.followups.models import Followup
from backend.followups.services import followups_clause, listed, supervises
from backend.pagination import paginate
from backend.tasks.models import Task
from backend.users.models import User
from backend.users.services import visible_users_clause
from schemas.followups import FOLLOWUP_KINDS, FOLLOWUP_PRIORITIES, FOLLOWUP_STATUSES, RESOLUTION_CODES, FollowupListArgs

FILTERS = ("status", "kind", "priority", "overdue", "owner")
FIELD_NAMES = {"status": N_("Status"), "kind": N_("Kind"), "priority": N_("Priority"), "overdue": N_("Overdue"),
               "owner": N_("Only mine"), "page": N_("Page")}

page("console.followups", N_("Follow-ups"), N_("Missed and unverified visits, concerns and checks to act on."),
     order=30, roles=CONSOLE_ROLES)


@bp.get("/followups")
@console_login_required
@open_to_provider_managers
def followups():
    args, errors = load_query(FollowupListArgs(), lists=("status",))
    query = repeated(FILTERS, lists=("status",))
    result = {"items": [], "meta": {"page": 1, "pages": 0, "total": 0}}
    if not errors:
        result = paginate(_listed(args), page=args["page"], per_page=args["per_page"])
    error = invalid_fields_message(errors, FIELD_NAMES) if errors else None
    return render_template("console/followups.html", items=result["items"], meta=result["meta"], query=query,
                           now=utcnow(), error=error, kinds=FOLLOWUP_KINDS, statuses=FOLLOWUP_STATUSES,
                           priorities=FOLLOWUP_PRIORITIES), 422 if error else 200


@bp.get("/followups/<int:followup_id>")
@console_login_required
@open_to_provider_managers
def followup_page(followup_id):
    return _detail(_followup(followup_id))


@bp.post("/followups/<int:followup_id>/<any(claim, comment, resolve, reopen):step>")
@console_login_required
@open_to_provider_managers
def followup_step(followup_id, step):
    followup = _followup(followup_id, for_update=True)
    form = request.form
    at = utcnow()
    try:
        version = integer("version", form.get("version"))
        if step == "claim":
            actions.claim(followup, by=g.user, at=at, version=version)
        elif step == "comment":
            actions.comment(followup, form.get("text", ""), by=g.user, at=at, version=version)
        elif step == "resolve":
            actions.resolve(followup, form.get("code", ""), form.get("note"), by=g.user, at=at,
                            reschedule=_reschedule(form), version=version)
        else:
            actions.reopen(followup, form.get("reason", ""), by=g.user, at=at, version=version)
        db.session.flush()
    except Problem as problem:
        db.session.rollback()
        return _detail(_followup(followup_id), error=problem_message(problem), form=form, step=step,
                       status=problem.code)
    db.session.commit()
    flash({"claim": _("You claimed this follow-up."), "comment": _("Comment added."),
           "resolve": _("Follow-up resolved."), "reopen": _("Follow-up reopened.")}[step])
    return redirect(url_for(".followup_page", followup_id=followup_id))


def _listed(args: dict):
    return listed(g.user, args, now=utcnow()).options(selectinload(Followup.elder), selectinload(Followup.owner))


def _followup(followup_id: int, *, for_update: bool = False) -> Followup:
    query = select(Followup).where(Followup.id == followup_id, followups_clause(g.user))
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    followup = db.session.execute(query).scalar_one_or_none()
    if followup is None:
        raise NotFound("followup")
    return followup


def _reschedule(form) -> dict | None:
    start = local_datetime("reschedule.window_start_at", form.get("window_start_at"))
    end = local_datetime("reschedule.window_end_at", form.get("window_end_at"))
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise ValidationFailed("reschedule", _l("both ends of the window are needed"))
    return {"window_start_at": start, "window_end_at": end,
            "assignee_id": integer("reschedule.assignee_id", form.get("assignee_id"))}


def _detail(followup: Followup, *, error: str | None = None, form=None, step: str | None = None,
            status: int = 200):
    task = db.session.get(Task, followup.task_id) if followup.task_id else None
    names = user_names([e.by_user_id for e in followup.events] + [
        followup.owner_id, followup.claimed_by_id, followup.resolved_by_id, followup.subject_user_id])
    assignees = []
    if task is not None and followup.status in actions.ACTIVE:
        role = actions.ASSIGNEE_ROLE[task.kind]
        assignees = [(u.id, u.display_name or u.username) for u in db.session.execute(
            select(User).where(User.role == role, User.is_active.is_(True), visible_users_clause(g.user))
            .order_by(User.username)).scalars()]
    return render_template(
        "console/followup.html", followup=followup, task=task, names=names, now=utcnow(), error=error,
        step=step, form=form or {}, codes=RESOLUTION_CODES, assignees=assignees,
        is_active=followup.status in actions.ACTIVE, may_reopen=supervises(followup, g.user)), status
