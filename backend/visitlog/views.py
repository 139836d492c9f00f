"""/audit/visits: the visit log, a visit's history, and CSV/XLSX exports of the same filtered view.

An audit view: admins see everything, supervisors their region subtree, field roles nothing (403).
A visit out of scope answers 404. Every export is recorded (ExportLog) before its first byte.
"""


from flask import Response, g
from flask_smorest import Blueprint

from backend.auth.access import roles
from backend.clock import utcnow
from backend.errors import NotFound
from backend.extensions import db
from backend.tasks.models import Task
from backend.visitlog import export, queries, services
from schemas.visitlog import VisitFilterArgs, VisitHistorySchema, VisitListArgs, VisitPageSchema

blp = Blueprint("visitlog", __name__, url_prefix="/api/v1/audit", description="The visit log, for audit")

AUDIT_ROLES = ("admin", "supervisor")


@blp.get("/visits")
@blp.arguments(VisitListArgs, location="query")
@blp.response(200, VisitPageSchema)
@roles(*AUDIT_ROLES)
def list_visits(args):
    """Every task that came due, with its evidence; newest first unless `sort=window_start_at`."""
    after = queries.decode_cursor(args["cursor"]) if "cursor" in args else None
    return queries.visit_page(g.user, queries.Filters.from_args(args), now=utcnow(), after=after,
                              limit=args["limit"])


@blp.get("/visits/<int:task_id>")
@blp.response(200, VisitHistorySchema)
@roles(*AUDIT_ROLES)
def get_visit(task_id):
    """The visit's row and everything that touched it, oldest first."""
    row = queries.visit_row(g.user, task_id)
    if row is None:
        raise NotFound("visit")
    return {"visit": row, "history": services.visit_history(db.session.get(Task, task_id))}


@blp.get("/visits.csv")
@blp.arguments(VisitFilterArgs, location="query")
@blp.response(200, content_type="text/csv", description="UTF-8 with a BOM, streamed")
@roles(*AUDIT_ROLES)
def export_csv(args):
    return _export("csv", args)


@blp.get("/visits.xlsx")
@blp.arguments(VisitFilterArgs, location="query")
@blp.response(200, content_type=export.XLSX, description="one sheet, streamed")
@roles(*AUDIT_ROLES)
def export_xlsx(args):
    return _export("xlsx", args)


def _export(fmt: str, args: dict) -> Response:
    return services.export_response(g.user, fmt, args)
