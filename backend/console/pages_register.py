"""Console forms of the register, on the elder's page: report that an elder died, moved away or is
in hospital; confirm or reject a report (supervisors of the elder's region and admins).

Every rule is the register services': the page reads the form and shows what the service said.
A decision form carries the report's version, so a stale page answers with a conflict message.
"""

from datetime import date

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from backend.clock import utcnow
from backend.console.display import problem_message
from backend.console.forms import integer
from backend.console.session import console_login_required
from backend.console.views import bp
from backend.elders.services import visible_elder
from backend.errors import Problem, ValidationFailed
from backend.extensions import db
from backend.register import services as register
from schemas.vocab import STATUS_REPORT_KINDS


@bp.post("/elders/<int:elder_id>/status-reports")
@console_login_required
def elder_status_report(elder_id):
    form = request.form
    try:
        elder = visible_elder(elder_id, viewer=g.user, for_update=True)
        kind = form.get("kind", "")
        if kind not in STATUS_REPORT_KINDS:
            raise ValidationFailed("kind", _l("choose what happened"))
        register.report_status(elder, kind, by=g.user, at=utcnow(), occurred_on=_day("occurred_on", form),
                               returns_on=_day("returns_on", form), note=form.get("note"), by_system="console")
        db.session.flush()
    except Problem as problem:
        db.session.rollback()
        if problem.code == 404:
            raise
        flash(problem_message(problem), "error")
        return redirect(url_for(".elder_page", elder_id=elder_id, _anchor="register-heading"))
    db.session.commit()
    flash(_("Reported. The supervisor of the community confirms it before the register changes."))
    return redirect(url_for(".elder_page", elder_id=elder_id, _anchor="register-heading"))


@bp.post("/status-reports/<int:report_id>/<any(confirm, reject):step>")
@console_login_required
def status_report_step(report_id, step):
    report = register.visible_report(report_id, viewer=g.user, for_update=True)
    elder_id = report.elder_id
    form = request.form
    try:
        version = integer("version", form.get("version"))
        if step == "confirm":
            register.confirm(report, by=g.user, at=utcnow(), version=version, returns_on=_day("returns_on", form),
                             note=form.get("note"))
        else:
            register.reject(report, by=g.user, at=utcnow(), reason=form.get("reason", ""), version=version)
        db.session.flush()
    except Problem as problem:
        db.session.rollback()
        flash(problem_message(problem), "error")
        return redirect(url_for(".elder_page", elder_id=elder_id, _anchor="register-heading"))
    db.session.commit()
    flash({"confirm": _("Report confirmed: the register, the plans and the visits follow it."),
           "reject": _("Report rejected: nothing was changed.")}[step])
    return redirect(url_for(".elder_page", elder_id=elder_id, _anchor="register-heading"))


def _day(field: str, form) -> date | None:
    text = (form.get(field) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(field, _l("not a date")) from None
