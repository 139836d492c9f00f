"""/audit/visits: the visit log, a visit's history, and CSV/XLSX exports of the same filtered view.

An audit view: admins see everything, supervisors their region subtree, field roles nothing (403).
A visit out of scope answers 404. Every export is recorded (ExportLog) before its first byte.
"""

from collections.abc import Callable, Iterable, Iterator

from flask import Response, g, stream_with_context
from flask_smorest import Blueprint

from backend.auth.access import roles
from backend.clock import care_tz, utcnow
from backend.errors import NotFound
from backend.extensions import db
from backend.tasks.models import Task
from backend.users.models import User
from backend.visitlog import export, queries, services
from schemas.visitlog import VisitFilterArgs, VisitHistorySchema, VisitListArgs, VisitPageSchema

blp = Blueprint("visitlog", __name__, url_prefix="/api/v1/audit", description="The visit log, for audit")

AUDIT_ROLES = ("admin", "supervisor")
FORMATS = {
    "csv": ("text/csv; charset=utf-8", export.csv_chunks),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", export.xlsx_chunks),
}


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
@blp.response(200, content_type=FORMATS["xlsx"][0], description="one sheet, streamed")
@roles(*AUDIT_ROLES)
def export_xlsx(args):
    return _export("xlsx", args)


def _export(fmt: str, args: dict) -> Response:
    now = utcnow()
    filters = queries.Filters.from_args(args)
    queries.visit_rows(g.user, filters, now=now, after=None, limit=1)  # bad filters fail here, not mid-stream
    log = services.start_export(by=g.user, format=fmt, filters=args, at=now)
    db.session.commit()
    content_type, chunks_of = FORMATS[fmt]
    rows = _rows_of(g.user.id, filters, now)
    filename = f"visits-{now.astimezone(care_tz()):%Y%m%d-%H%M%S}.{fmt}"
    return Response(stream_with_context(_streamed(chunks_of, rows, log.id)), content_type=content_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})


def _rows_of(user_id: int, filters, now) -> Iterator[dict]:
    # The body streams after the view returned and its session was closed: the user is loaded
    # again, by id, in the session the stream runs in.
    yield from queries.iter_visit_rows(db.session.get(User, user_id), filters, now=now)


def _streamed(chunks_of: Callable[[Iterable[dict]], Iterator[bytes]], rows: Iterable[dict],
              log_id: int) -> Iterator[bytes]:
    count = 0

    def counted():
        nonlocal count
        for row in rows:
            count += 1
            yield row

    yield from chunks_of(counted())
    services.finish_export(log_id, row_count=count, at=utcnow())
    db.session.commit()  # the stream's own boundary: an export cut short keeps finished_at empty
