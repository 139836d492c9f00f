"""GET/POST /status-reports, GET /status-reports/{id}, POST /status-reports/{id}/confirm and /reject.

Anyone whose scope holds the elder reports that they died, moved away or went into hospital, and
reads the reports on the elders they see; supervisors of the elder's region and admins confirm or
reject them.
"""

from flask import g

from backend import clock
from backend.api import Blueprint
from backend.auth.access import roles
from backend.elders.services import visible_elder
from backend.extensions import db
from backend.pagination import paginate
from backend.register import services
from schemas.register import (
    ConfirmSchema,
    RejectSchema,
    StatusReportCreateSchema,
    StatusReportListArgs,
    StatusReportPageSchema,
    StatusReportSchema,
)

blp = Blueprint("status_reports", __name__, url_prefix="/api/v1/status-reports",
                description="An elder deceased, moved out or in hospital, confirmed by a supervisor")


@blp.get("")
@blp.arguments(StatusReportListArgs, location="query")
@blp.response(200, StatusReportPageSchema)
def list_status_reports(args):
    """The reports on the elders of the caller's scope, newest first."""
    return paginate(services.listed(g.user, args), page=args["page"], per_page=args["per_page"])


@blp.get("/<int:report_id>")
@blp.response(200, StatusReportSchema)
def get_status_report(report_id):
    return services.visible_report(report_id, viewer=g.user)


@blp.post("")
@blp.arguments(StatusReportCreateSchema)
@blp.response(201, StatusReportSchema)
def create_status_report(body):
    """Opens a follow-up for the supervisor of the elder's community; the register changes only
    once it is confirmed. A hospital stay needs `returns_on`."""
    elder = visible_elder(body["elder_id"], viewer=g.user, for_update=True)
    report = services.report_status(elder, body["kind"], by=g.user, at=clock.utcnow(), occurred_on=body["occurred_on"],
                                    returns_on=body["returns_on"], note=body["note"])
    db.session.commit()
    return report


@blp.post("/<int:report_id>/confirm")
@roles("admin", "supervisor")
@blp.arguments(ConfirmSchema)
@blp.response(200, StatusReportSchema)
def confirm_status_report(body, report_id):
    """The elder's status changes, their plans end (or pause until `returns_on`) and their
    unstarted tasks are cancelled; phones drop them on their next pull."""
    report = services.visible_report(report_id, viewer=g.user, for_update=True)
    report = services.confirm(report, by=g.user, at=clock.utcnow(), version=body["version"],
                              returns_on=body["returns_on"], note=body["note"])
    db.session.commit()
    return report


@blp.post("/<int:report_id>/reject")
@roles("admin", "supervisor")
@blp.arguments(RejectSchema)
@blp.response(200, StatusReportSchema)
def reject_status_report(body, report_id):
    """Closes the report with the reason; nothing else changes."""
    report = services.visible_report(report_id, viewer=g.user, for_update=True)
    report = services.reject(report, by=g.user, at=clock.utcnow(), reason=body["reason"], version=body["version"])
    db.session.commit()
    return report
