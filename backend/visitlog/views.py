"""/audit/visits: the visit log, a visit's history, and CSV/XLSX exports of the same filtered view.

An audit view: admins see everything, supervisors their region subtree, provider managers their
provider's visits, field roles nothing (403).
A visit out of scope answers 404. Every export is recorded (ExportLog) before its first byte.
"""


from flask import Response, g, stream_with_context

from backend.api import Blueprint
from backend.auth.access import roles
from backend.clock import utcnow
from backend.errors import NotFound
from backend.extensions import db
from backend.tasks.models import Task
from backend.visitlog import export, queries, services
from schemas.visitlog import VisitExportArgs, VisitHistorySchema, VisitListArgs, VisitPageSchema

blp = Blueprint("visitlog", __name__, url_prefix="/api/v1/audit", description="The visit log, for audit")

AUDIT_ROLES = ("admin", "supervisor", "provider_manager")


@blp.get("/visits")
@roles(*AUDIT_ROLES)
@blp.arguments(VisitListArgs, location="query")
@blp.response(200, VisitPageSchema)
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
@roles(*AUDIT_ROLES)
@blp.arguments(VisitExportArgs, location="query")
@blp.response(200, content_type="text/csv", description="UTF-8 with a BOM, streamed")
def export_csv(args):
    return _export("csv", args)


@blp.get("/visits.xlsx")
@roles(*AUDIT_ROLES)
@blp.arguments(VisitExportArgs, location="query")
@blp.response(200, content_type=export.XLSX, description="one sheet, streamed")
def export_xlsx(args):
    return _export("xlsx", args)


def _export(fmt: str, args: dict) -> Response:
    codes = args.pop("codes")
    return export_download(g.user, fmt, args, codes=codes)


def export_download(user, fmt: str, args: dict, *, codes: bool = False) -> Response:
    """The filtered visit log as a streamed CSV or XLSX download (the API's and the console's).

    The boundary of an export: its record is committed before the first byte, and marked finished
    (with its row count) by a commit of the stream's own when the last row has gone out, so an
    export cut short keeps finished_at empty. Headers and coded values are in the reader's language
    unless `codes` asks for the machine codes."""
    now = utcnow()
    log_id = services.start_export(user, fmt, args, at=now).id
    db.session.commit()
    # Read after the commit, which reloads the caller: the stream's own commit names them in the
    # audit trail after the request's session is gone.
    user_id = user.id

    def body():
        yield from services.export_chunks(fmt, user_id, args, now=now, log_id=log_id, codes=codes)
        db.session.commit()

    return Response(stream_with_context(body()), content_type=export.FORMATS[fmt][0],
                    headers={"Content-Disposition": f'attachment; filename="{services.export_filename(fmt, at=now)}"',
                             "Cache-Control": "no-store"})
