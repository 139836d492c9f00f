"""Reads of personal data, recorded in the audit trail beside the writes, and the one list of them.

PIPL treats ID numbers and health data as sensitive: who saw an elder's full ID number, who
looked at a visit's signature image or photo, and who took a file of visits, names or door plates
away, is recorded like a write. A view that shows or
sends such data calls `id_cards_read` or `exported` and commits (a GET commits nothing else), so
the entry names the reader, the time and the request; the change names what, and how many rows.

Each change names the regions it concerns (`regions`: ids, or None for every region). An admin's
list shows every read; a supervisor's shows the reads made by the users they can see
(visible_users_clause: their subtree's staff and the caregivers serving its elders) and the reads
that concern their subtree whoever made them: an ID number of one of its elders (admins read
them), an image of one of its visits, an export of a region in it or above it, an export of every region.
"""

from sqlalchemy import JSON, Integer, and_, cast, exists, func, literal, or_, select

from backend.audit import trail
from backend.audit.models import READ_ACTIONS, READS, AuditEntry
from backend.extensions import db
from backend.regions.models import Region
from backend.scope import regions_clause
from backend.users.models import User
from backend.users.services import visible_users_clause
from backend.visitlog.models import ExportLog


def id_cards_read(elders) -> None:
    """The elders whose full ID number the caller is about to be shown (those without none)."""
    shown = [elder for elder in elders if elder.id_card_no]
    if shown:
        _record({"table": "elders", "action": "read_id_card", "ids": sorted(e.id for e in shown),
                 "rows": len(shown), "regions": sorted({e.community_id for e in shown})})


def media_read(media, tasks) -> None:
    """An image of visits' evidence (a signature, a photo) sent to the caller: which image, for
    which of the caller's visible tasks, in which communities."""
    _record({"table": "media", "action": "read_media", "ids": [media.sha256], "rows": 1,
             "tasks": sorted(t.id for t in tasks), "regions": sorted({t.community_id for t in tasks})})


def exported(what: str, fmt: str, *, filters: dict, rows: int | None, regions: list[int] | None,
             **details) -> None:
    """A file of personal data sent: `what` (visit_log, monthly_report, plates_sheet), its format,
    the filters that chose its rows, how many rows (None when it is streamed: counted at its end,
    in export_logs), and the regions it covers (None: every region)."""
    _record({"action": "export", "what": what, "format": fmt, "filters": _plain(filters), "rows": rows,
             "regions": None if regions is None else sorted(set(regions)), **details})


def report_exported(report: dict, fmt: str) -> None:
    """A monthly report's file (reports.services.monthly_report): its rows are the people it
    names, the caregiver table; its figures are counts."""
    exported("monthly_report", fmt, filters={"region": report["region"]["id"], "month": report["month"]},
             rows=len(report["caregivers"]), regions=[report["region"]["id"]])


def _record(change: dict) -> None:
    trail.record(db.session, change)


def _plain(filters: dict) -> dict:
    return {name: value.isoformat() if hasattr(value, "isoformat") else value
            for name, value in filters.items() if value is not None}


def listed(user: User):
    """Audit entries holding a read of personal data that `user` may see, newest first."""
    query = select(AuditEntry).where(READS).order_by(AuditEntry.seq.desc())
    if user.role == "admin":
        return query
    readers = select(User.id).where(visible_users_clause(user))
    return query.where(or_(AuditEntry.user_id.in_(readers), _concerns(user)))


def _concerns(user: User):
    """The entry holds a read whose regions are every region, or include one of the user's."""
    change = func.json_array_elements(AuditEntry.changes, type_=JSON).column_valued("change")
    regions = change.op("->")(literal("regions"))
    region = func.json_array_elements_text(regions).column_valued("region")
    # Its subtree, and the regions above it, which contain it.
    overlapping = select(Region.id).where(regions_clause(user))
    mine = exists(select(region).where(cast(region, Integer).in_(overlapping)))
    return exists(select(change).where(
        change.op("->>")(literal("action")).in_(READ_ACTIONS),
        or_(func.json_typeof(regions) == "null", and_(func.json_typeof(regions) == "array", mine)),
    ))


def rows_of_exports(export_ids) -> dict[int, int | None]:
    """How many rows each streamed visit-log export sent (None: it never finished)."""
    if not export_ids:
        return {}
    return dict(db.session.execute(select(ExportLog.id, ExportLog.row_count)
                                   .where(ExportLog.id.in_(sorted(set(export_ids))))).all())
