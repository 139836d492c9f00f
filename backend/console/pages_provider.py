"""Console page of one provider (本机构): its workforce figures for a month (verified service hours
per caregiver, the certification rate), the requests for an explanation awaiting its answer, and
its coming tasks to hand to another of its caregivers. A provider manager sees only their own
provider; supervisors and admins choose one.
"""

from datetime import timedelta

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from backend.clock import local_today, utcnow
from backend.console.display import N_, problem_message
from backend.console.forms import integer
from backend.console.session import CONSOLE_ROLES, console_login_required, open_to_provider_managers
from backend.console.views import bp, page
from backend.errors import NotFound, Problem
from backend.extensions import db
from backend.providers import workforce
from backend.providers.models import Provider
from backend.rectifications import services as rectifications
from backend.reviews import explanations
from backend.reviews.models import Review, ReviewExplanation
from backend.scope import provider_tasks_clause, providers_clause, scoped_or_404, tasks_clause
from backend.tasks import handover
from backend.tasks.models import Task
from backend.users.models import User

COMING_DAYS = 3  # the coming tasks listed for handing over

page("console.provider_page", N_("Provider"),
     N_("A provider's service hours, certification rate, explanations owed and coming tasks."), order=48,
     roles=CONSOLE_ROLES)


@bp.get("/provider")
@console_login_required
@open_to_provider_managers
def provider_page():
    return _page()


@bp.post("/provider/explanations/<int:review_id>")
@console_login_required
@open_to_provider_managers
def explain(review_id):
    review = scoped_or_404(Review, review_id, Review.task_id.in_(select(Task.id).where(tasks_clause(g.user))),
                           what="review", for_update=True)
    try:
        explanations.explain(review, request.form.get("text", ""), by=g.user, at=utcnow())
    except Problem as problem:
        db.session.rollback()
        return _page(error=problem_message(problem), status=problem.code)
    db.session.commit()
    flash(_("Explanation sent to the supervisor."))
    return redirect(url_for(".provider_page", **_keep()))


@bp.post("/provider/tasks/<int:task_id>/reassign")
@console_login_required
@open_to_provider_managers
def reassign(task_id):
    task = scoped_or_404(Task, task_id, tasks_clause(g.user), what="task", for_update=True)
    try:
        handover.hand_over(task, integer("assignee_id", request.form.get("assignee_id")) or 0, by=g.user,
                           at=utcnow())
    except Problem as problem:
        db.session.rollback()
        return _page(error=problem_message(problem), status=problem.code)
    db.session.commit()
    flash(_("Task handed over."))
    return redirect(url_for(".provider_page", **_keep()))


def _keep() -> dict:
    return {name: request.args[name] for name in ("provider_id", "month") if request.args.get(name)}


def _page(*, error: str | None = None, status: int = 200):
    now = utcnow()
    today = local_today(now)
    providers = db.session.execute(select(Provider).where(providers_clause(g.user)).order_by(Provider.name)
                                   ).scalars().all()
    if not providers:
        raise NotFound("provider")
    chosen = integer("provider_id", request.args.get("provider_id")) if g.user.role != "provider_manager" else None
    provider = next((p for p in providers if p.id == chosen), providers[0])
    month = request.args.get("month", "").strip()
    if len(month) != 7 or not month[:4].isdigit() or month[4] != "-" or not month[5:].isdigit() \
            or not 1 <= int(month[5:]) <= 12:
        month = today.strftime("%Y-%m")
    figures = workforce.figures(provider, month)
    owed = _explanations_owed(provider)
    coming = db.session.execute(
        select(Task).where(provider_tasks_clause(provider.id), tasks_clause(g.user), Task.status == "scheduled",
                           Task.kind == "service", Task.window_start_at > now,
                           Task.window_start_at < now + timedelta(days=COMING_DAYS))
        .options(selectinload(Task.elder)).order_by(Task.window_start_at, Task.id).limit(100)).scalars().all()
    caregivers = db.session.execute(select(User).where(
        User.role == "caregiver", User.provider_id == provider.id, User.is_active.is_(True))
        .order_by(User.username)).scalars().all()
    overdue = rectifications.overdue(provider.id, now=now)
    return render_template(
        "console/provider.html", provider=provider, providers=providers, month=month, figures=figures,
        provider_choices=[(p.id, p.name) for p in providers], keep=_keep(),
        owed=owed, coming=coming, caregivers=caregivers, overdue=overdue, error=error,
        may_explain=g.user.role == "provider_manager"), status


def _explanations_owed(provider: Provider) -> list[Review]:
    """Current requests for an explanation of the provider's visits not answered yet, oldest first."""
    answered = exists().where(ReviewExplanation.review_id == Review.id)
    return db.session.execute(
        select(Review).join(Task, Review.task_id == Task.id)
        .where(Review.decision == "explanation_requested", Review.superseded_by_id.is_(None), ~answered,
               provider_tasks_clause(provider.id), tasks_clause(g.user))
        .options(selectinload(Review.task).selectinload(Task.elder)).order_by(Review.decided_at)).scalars().all()
