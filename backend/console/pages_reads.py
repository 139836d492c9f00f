"""Console page of reads of personal data (个人信息查阅记录): who saw elders' ID numbers in full or
took a file of personal data away, when, what and how many rows, newest first.

The entries are the audit trail's (backend/audit/reads.py records them; its `listed` decides who
sees which). Elders are named only when they are in the reader's own scope.
"""

from flask import g, render_template
from flask_babel import gettext as _
from sqlalchemy import select

from backend.audit import reads
from backend.audit.models import READ_ACTIONS
from backend.console.display import N_, user_names
from backend.console.forms import invalid_fields_message, load_query, repeated
from backend.console.session import console_login_required
from backend.console.views import bp, page
from backend.elders.models import Elder
from backend.extensions import db
from backend.pagination import paginate
from backend.regions.models import Region
from backend.scope import elders_clause
from schemas.common import PageArgs

FIELD_NAMES = {"page": N_("Page")}
FILTER_NAMES = {"date_from": N_("From"), "date_to": N_("To"), "region_id": N_("Region"), "region": N_("Region"),
                "community_id": N_("Community"), "provider_id": N_("Provider"), "caregiver_id": N_("Caregiver"),
                "elder_id": N_("Elder"), "service_type": N_("Service"), "kind": N_("Kind"), "status": N_("Status"),
                "flag": N_("Flag"), "verification": N_("Verification"), "month": N_("Month"), "sort": N_("Order")}
REGION_FILTERS = ("region_id", "region", "community_id")
WHAT = {"visit_log": N_("Visit log"), "monthly_report": N_("Monthly report"), "plates_sheet": N_("Door plate sheet")}

page("console.reads_log", N_("Data access"),
     N_("Who saw ID numbers in full or exported personal data: when, what and how many rows."), order=90)


@bp.get("/reads")
@console_login_required
def reads_log():
    args, errors = load_query(PageArgs())
    result = {"items": [], "meta": {"page": 1, "pages": 0, "total": 0}}
    if not errors:
        result = paginate(reads.listed(g.user), page=args["page"], per_page=args["per_page"])
    rows = _rows(result["items"])
    error = invalid_fields_message(errors, FIELD_NAMES) if errors else None
    return render_template("console/reads.html", rows=rows, meta=result["meta"], error=error,
                           query=repeated(("per_page",))), \
        422 if error else 200


def _rows(entries) -> list[dict]:
    """One row per read in the page's entries, with names looked up once for the page."""
    found = [(entry, change) for entry in entries for change in entry.changes
             if change.get("action") in READ_ACTIONS]
    readers = user_names(entry.user_id for entry, _change in found)
    elder_ids = {i for _entry, change in found if change["action"] == "read_id_card" for i in change["ids"]}
    elders = dict(db.session.execute(select(Elder.id, Elder.name).where(Elder.id.in_(elder_ids),
                                                                      elders_clause(g.user))).all()) \
        if elder_ids else {}
    region_ids = {change["filters"][name] for _entry, change in found if change["action"] == "export"
                  for name in REGION_FILTERS if isinstance(change["filters"].get(name), int)}
    regions = dict(db.session.execute(select(Region.id, Region.name).where(Region.id.in_(region_ids))).all()) \
        if region_ids else {}
    streamed = reads.rows_of_exports(change["export_id"] for _entry, change in found if "export_id" in change)
    rows = []
    for entry, change in found:
        row = {"at": entry.at, "who": readers.get(entry.user_id) or entry.actor, "source": entry.source}
        if change["action"] == "read_id_card":
            shown = [(i, elders[i]) for i in change["ids"] if i in elders]
            row.update(what=_("Full ID numbers"), rows=len(change["ids"]), elders=shown,
                       others=len(change["ids"]) - len(shown), filters=[])
        elif change["action"] == "read_media":
            row.update(what=_("A visit's signature image or photo"), rows=change["rows"], elders=[], others=0,
                       filters=[(_("Visit"), "、".join(str(task_id) for task_id in change["tasks"]))])
        else:
            rows_sent = streamed.get(change["export_id"]) if "export_id" in change else change.get("rows")
            row.update(what=_("%(what)s export (%(format)s)", what=_(WHAT.get(change["what"], change["what"])),
                              format=change["format"].upper()),
                       rows=rows_sent, elders=[], others=0,
                       filters=[(_(FILTER_NAMES.get(name, name)),
                                 regions.get(value, value) if name in REGION_FILTERS else value)
                                for name, value in change["filters"].items()])
        rows.append(row)
    return rows
