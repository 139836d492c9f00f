"""A monthly report as tables with headings in the reader's language (Chinese unless English is
asked for), written as CSV (one file, a block per table) or XLSX (a sheet per table). The printable
PDF is in pdf.py and uses the same labels.

openpyxl (25 MB with numpy) and reportlab (17 MB) are imported when a file is written, not when
a worker starts: most workers never write one, and their idle size is what a long export adds to.
"""

import csv
import io
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask_babel import gettext, pgettext
from flask_babel import lazy_pgettext as _lp

from backend.console.display import label
from backend.visitlog.export import spreadsheet_text

# Column headings: catalogue msgids in the context "report" (a heading may read otherwise than the
# same English word in the console: 名称, not 姓名). A new column is one line here.
LABELS = {
    "region_id": _lp("report", "Region ID"),
    "provider_id": _lp("report", "Provider ID"),
    "user_id": _lp("report", "Person ID"),
    "name": _lp("report", "Name"),
    "level": _lp("report", "Level"),
    "role": _lp("report", "Role"),
    "service_type": _lp("report", "Service type code"),
    "date": _lp("report", "Date"),
    "planned": _lp("report", "Planned"),
    "completed": _lp("report", "Completed"),
    "completed_on_time": _lp("report", "Completed on time"),
    "late_synced": _lp("report", "Completed after marked missed (count)"),
    "missed": _lp("report", "Missed"),
    "cancelled": _lp("report", "Cancelled"),
    "verified": _lp("report", "Verified"),
    "verification_rate": _lp("report", "Verification rate"),
    "satisfaction_rated": _lp("report", "Ratings"),
    "satisfaction_mean": _lp("report", "Mean satisfaction"),
    "satisfaction_low": _lp("report", "Low ratings (≤2)"),
    "satisfaction_low_share": _lp("report", "Share of low ratings"),
    "followups_opened": _lp("report", "Follow-ups opened"),
    "followups_resolved": _lp("report", "Follow-ups resolved"),
    "followups_overdue": _lp("report", "Overdue follow-ups"),
    "in_scope_elders": _lp("report", "Elders in the coverage categories"),
    "in_scope_elders_visited": _lp("report", "Seen in their period (covered)"),
    "in_scope_elders_quarterly": _lp("report", "Of them patrolled quarterly"),
    "patrols_seen_door": _lp("report", "Patrols seen at the door"),
    "patrols_seen_phone": _lp("report", "Patrols reached by phone"),
    "patrols_door_share": _lp("report", "Share at the door"),
    "patrols_phone_share": _lp("report", "Share by phone"),
    "patrols_attempted": _lp("report", "Patrols attempted, elder not seen"),
    "to_date": _lp("report", "Month in progress"),
    "patrol_coverage": _lp("report", "Patrol coverage"),
    "timed": _lp("report", "Timed visits"),
    "mean_duration_minutes": _lp("report", "Mean duration (minutes)"),
    "mean_min_duration_minutes": _lp("report", "Mean minimum duration (minutes)"),
    "short_visits": _lp("report", "Visits too short"),
    "cross_flagged": _lp("report", "Overlapping or impossible-travel visits"),
    "failed": _lp("report", "Failed on"),
    "item": _lp("report", "Item"),
    "value": _lp("report", "Value"),
    "rejected": _lp("report", "Rejected on review"),
    "callbacks": _lp("report", "Call-backs made"),
    "callbacks_unconfirmed": _lp("report", "Call-backs not confirming"),
    "callbacks_unconfirmed_share": _lp("report", "Share of call-backs not confirming"),
    "callback_satisfaction_rated": _lp("report", "Call-back ratings"),
    "callback_satisfaction_mean": _lp("report", "Call-back mean satisfaction"),
    "satisfaction_source": _lp("report", "Satisfaction judged on"),
    # named only in the definitions
    "month": _lp("report", "Month"),
    "providers": _lp("report", "Providers"),
    "caregivers": _lp("report", "People"),
    "rectification": _lp("report", "Rectification list"),
    "active_caregivers": _lp("report", "Active caregivers"),
    "certified_caregivers": _lp("report", "Certified caregivers"),
    "certification_rate": _lp("report", "Certification rate"),
    "service_hours": _lp("report", "Verified service hours"),
    "rectification_id": _lp("report", "Order number"),
    "due_on": _lp("report", "Deadline"),
    "findings": _lp("report", "Findings"),
}
RATES = {"verification_rate", "satisfaction_low_share", "patrol_coverage", "callbacks_unconfirmed_share",
         "patrols_door_share", "patrols_phone_share",
         "certification_rate"}

_VISITS = ("planned", "completed", "rejected", "completed_on_time", "late_synced", "missed", "cancelled",
           "verified", "verification_rate", "satisfaction_rated", "satisfaction_mean", "satisfaction_low",
           "satisfaction_low_share", "callbacks", "callbacks_unconfirmed", "callbacks_unconfirmed_share",
           "callback_satisfaction_rated", "callback_satisfaction_mean", "followups_opened", "followups_resolved",
           "followups_overdue")
_PATROLS = ("patrols_seen_door", "patrols_seen_phone", "patrols_door_share", "patrols_phone_share",
            "patrols_attempted")
REGION_COLUMNS = ("region_id", "name", "level", *_VISITS, *_PATROLS, "in_scope_elders", "in_scope_elders_quarterly",
                  "in_scope_elders_visited", "patrol_coverage")
PROVIDER_COLUMNS = ("provider_id", "name", *_VISITS, "satisfaction_source")
SERVICE_TYPE_COLUMNS = ("service_type", "name", "completed", "timed", "mean_duration_minutes",
                        "mean_min_duration_minutes", "short_visits")
CAREGIVER_COLUMNS = ("user_id", "name", "role", "provider_id", "planned", "completed", "rejected",
                     "completed_on_time",
                     "late_synced", "missed", "verified", "verification_rate", "satisfaction_rated",
                     "satisfaction_mean", "satisfaction_low_share", "cross_flagged")
DAY_COLUMNS = ("date", "planned", "completed")
RECTIFICATION_COLUMNS = ("provider_id", "name", "failed", "completed", "rejected", "verification_rate",
                         "satisfaction_source", "satisfaction_rated", "satisfaction_mean",
                         "callback_satisfaction_rated", "callback_satisfaction_mean")
WORKFORCE_COLUMNS = ("provider_id", "name", "active_caregivers", "certified_caregivers", "certification_rate",
                     "service_hours")
OVERDUE_COLUMNS = ("rectification_id", "name", "due_on", "findings")


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]  # keys; LABELS gives the heading
    rows: list[tuple]

    @property
    def headings(self) -> list[str]:
        return [heading(column) for column in self.columns]


def heading(column: str) -> str:
    """A column's heading in the reader's language."""
    return str(LABELS[column]) if column in LABELS else column


def generated_at(report: dict) -> str:
    """When the report was made, in local time (as the PDF prints it)."""
    return local_time(report, report["generated_at"])


def as_of(report: dict) -> str:
    """Up to when the figures go (a lagging replica's last replayed commit), in local time, to the second."""
    return f"{report['as_of'].astimezone(ZoneInfo(report['period']['time_zone'])):%Y-%m-%d %H:%M:%S}"
def local_time(report: dict, at) -> str:
    return f"{at.astimezone(ZoneInfo(report['period']['time_zone'])):%Y-%m-%d %H:%M}"


def to_date_note(report: dict) -> str | None:
    """For a month in progress, that its figures are to date and up to when (or that it has not
    begun); None for a month ended."""
    if not report.get("month_in_progress"):
        return None
    if report["figures_until"] <= report["period"]["start_at"]:
        return gettext("The month has not begun yet: no figure counts.")
    return gettext("The month is not over yet: figures to %(at)s.", at=local_time(report, report["figures_until"]))


def coverage_categories(report: dict) -> str:
    """The coverage population's categories, named in the reader's language."""
    return "、".join(label("category", code) for code in report["coverage"]["categories"])


def coverage_rule(report: dict) -> str:
    """Which frequency rule patrol coverage applies, in words."""
    tiers = report["coverage"]["quarterly_tiers"]
    if not tiers:
        return gettext("An elder is covered when seen by a patrol in the month.")
    return gettext("An elder is covered when seen by a patrol in the month; one whose risk tier (%(tiers)s) is "
                   "patrolled quarterly is covered when seen in the quarter up to the month's end.",
                   tiers="、".join(label("risk_tier", tier) for tier in tiers))


def title_of(report: dict) -> str:
    year, month = report["month"].split("-")
    return gettext("%(region)s %(year)s-%(month)s home-care visits monthly report", region=report["region"]["name"],
                   year=year, month=int(month))


def tables(report: dict) -> list[Table]:
    """Every section of the report, in reading order."""
    total = {**report["total"], "name": gettext("Total (%(name)s)", name=report["total"]["name"])}
    thresholds = report["thresholds"]
    summary = [(gettext("Region"), report["region"]["name"]),
               (heading("level"), label("level", report["region"]["level"])),
               (gettext("Month"), report["month"]), (gettext("Time zone"), report["period"]["time_zone"]),
               (gettext("Generated at"), generated_at(report)),
               (gettext("Data as of"), as_of(report)),
               *([(heading("to_date"), note)] if (note := to_date_note(report)) else []),
               (gettext("Coverage categories"), coverage_categories(report)),
               (gettext("Coverage rule"), coverage_rule(report)),
               (gettext("Satisfaction threshold"), thresholds["min_satisfaction"]),
               (gettext("Verification rate threshold"), thresholds["min_verification"]),
               (gettext("Fewest visits to judge"), thresholds["min_visits"]),
               (gettext("Fewest call-backs to judge satisfaction on them"), thresholds["min_callbacks"]),
               (gettext("Patrol coverage target"), report["patrol_coverage_target"])]
    summary += [(heading(key), report["total"][key]) for key in REGION_COLUMNS[3:]]
    return [
        Table(pgettext("report", "Summary"), ("item", "value"), summary),
        Table(pgettext("report", "By region"), REGION_COLUMNS, _rows(REGION_COLUMNS, [*report["regions"], total])),
        Table(pgettext("report", "Providers"), PROVIDER_COLUMNS, _rows(PROVIDER_COLUMNS, report["providers"])),
        Table(pgettext("report", "Duration by service"), SERVICE_TYPE_COLUMNS,
              _rows(SERVICE_TYPE_COLUMNS, report["service_types"])),
        Table(pgettext("report", "People"), CAREGIVER_COLUMNS, _rows(CAREGIVER_COLUMNS, report["caregivers"])),
        Table(pgettext("report", "Completion per day"), DAY_COLUMNS, _rows(DAY_COLUMNS, report["daily"])),
        Table(pgettext("report", "Rectification list"), RECTIFICATION_COLUMNS,
              _rows(RECTIFICATION_COLUMNS, report["rectification"])),
        Table(pgettext("report", "Workforce"), WORKFORCE_COLUMNS, _rows(WORKFORCE_COLUMNS, report["workforce"])),
        Table(pgettext("report", "Overdue rectification orders"), OVERDUE_COLUMNS,
              _rows(OVERDUE_COLUMNS, report["overdue_rectifications"])),
        Table(pgettext("report", "How each figure is defined"), ("item", "value"),
              [(heading(key) if key in LABELS else key, text) for key, text in report["definitions"].items()]),
    ]


def _rows(columns: tuple[str, ...], records: list[dict]) -> list[tuple]:
    return [tuple(_cell(column, record.get(column)) for column in columns) for record in records]


def _cell(column: str, value):
    if column in ("level", "role"):
        return None if value is None else label(column, value)
    if column == "failed":
        return "、".join(label("failed", v) for v in value)
    if column == "satisfaction_source":
        return label("satisfaction_source", value)
    return value


def to_csv(report: dict) -> bytes:
    """One CSV file: each table under a line naming it, tables apart by a blank line. UTF-8 with a
    byte-order mark, or Excel opens the Chinese as mojibake."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([title_of(report)])
    for table in tables(report):
        writer.writerow([])
        writer.writerow([f"# {table.title}"])
        writer.writerow(table.headings)
        writer.writerows(["" if value is None else value for value in row] for row in table.rows)
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(report: dict) -> bytes:
    """A workbook with a sheet per table; rates are formatted as percentages."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for table in tables(report):
        sheet = book.create_sheet(table.title)
        sheet.append(table.headings)
        for cell in sheet[1]:
            cell.font = bold
        for row in table.rows:
            sheet.append([spreadsheet_text(value) for value in row])
        for index, column in enumerate(table.columns, start=1):
            if column in RATES:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = "0.0%"
            sheet.column_dimensions[sheet.cell(1, index).column_letter].width = \
                max(10, min(40, 2 * len(str(sheet.cell(1, index).value)) + 2))
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_pdf(report: dict) -> bytes:
    """The printable report (pdf.py), loaded with reportlab on first use."""
    from backend.reports import pdf

    return pdf.to_pdf(report)
