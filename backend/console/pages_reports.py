"""Console page of the monthly report (月报): a region's figures as tables, two charts drawn as
inline SVG with their numbers beside them, the rectification list, and CSV/XLSX/PDF downloads.

The figures are the report service's; a region outside the user's scope answers 404, as in the API.
"""

from flask import Response, g, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from backend.audit import reads
from backend.clock import local_today, utcnow
from backend.console import charts
from backend.console.display import N_, percent, region_choices
from backend.console.forms import invalid_fields_message, load_query
from backend.console.session import console_login_required
from backend.console.views import bp, page
from backend.errors import NotFound
from backend.extensions import db
from backend.regions.models import Region
from backend.reports import render, services
from backend.scope import region_ids_clause
from schemas.reports import MonthlyReportArgs

FIELD_NAMES = {"region": N_("Region"), "month": N_("Month")}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOWNLOADS = {"csv": ("text/csv; charset=utf-8", render.to_csv), "xlsx": (XLSX, render.to_xlsx),
             "pdf": ("application/pdf", render.to_pdf)}

page("console.monthly_report", N_("Monthly report"), N_("A region's monthly figures, charts and rectification list."),
     order=50)


@bp.get("/reports/monthly")
@console_login_required
def monthly_report():
    args, errors, query = _arguments()
    regions = db.session.execute(select(Region).where(region_ids_clause(g.user, Region.id))
                                 .order_by(Region.path)).scalars().all()
    if errors:
        return render_template("console/report.html", report=None, query=query, regions=region_choices(regions),
                               error=invalid_fields_message(errors, FIELD_NAMES)), 422
    report = services.monthly_report(_region(args["region"]), args["month"], now=utcnow())
    return render_template("console/report.html", report=report, query=query, regions=region_choices(regions),
                           charts=_charts(report), error=None, report_heading=render.heading,
                           to_date=render.to_date_note(report), coverage_categories=render.coverage_categories(report),
                           coverage_rule=render.coverage_rule(report),
                           downloads={ext: url_for(f".monthly_report_{ext}", **query) for ext in DOWNLOADS})


@bp.get("/reports/monthly.csv")
@console_login_required
def monthly_report_csv():
    return _download("csv")


@bp.get("/reports/monthly.xlsx")
@console_login_required
def monthly_report_xlsx():
    return _download("xlsx")


@bp.get("/reports/monthly.pdf")
@console_login_required
def monthly_report_pdf():
    return _download("pdf")


def _download(ext: str) -> Response:
    args, errors, _query = _arguments()
    if errors:
        raise NotFound("report")
    report = services.monthly_report(_region(args["region"]), args["month"], now=utcnow())
    content_type, write = DOWNLOADS[ext]
    name = f"report-{args['region']}-{args['month']:%Y-%m}.{ext}"
    body = write(report)
    reads.report_exported(report, ext)
    db.session.commit()
    return Response(body, content_type=content_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _arguments() -> tuple[dict, dict, dict]:
    """(loaded, errors, query to repeat): the user's own region and this month unless asked."""
    source = request.args.copy()
    if not source.get("region"):
        source["region"] = str(_default_region_id())
    if not source.get("month"):
        source["month"] = local_today(utcnow()).strftime("%Y-%m")
    args, errors = load_query(MonthlyReportArgs(), source=source)
    return args, errors, {"region": source["region"], "month": source["month"]}


def _default_region_id() -> int:
    if g.user.region_id is not None:
        return g.user.region_id
    root = db.session.execute(select(Region.id).where(Region.parent_id.is_(None), region_ids_clause(g.user, Region.id))
                              .order_by(Region.path).limit(1)).scalar_one_or_none()
    return root or 1


def _region(region_id: int) -> Region:
    region = db.session.execute(select(Region).where(Region.id == region_id, region_ids_clause(g.user, Region.id))
                                ).scalar_one_or_none()
    if region is None:
        raise NotFound("region")
    return region


def _charts(report: dict) -> dict:
    total = report["total"]
    threshold = report["thresholds"]["min_verification"]
    return {
        "daily": charts.daily_completion(
            report["daily"], title=_("Planned and completed visits per day, %(month)s", month=report["month"]),
            desc=_("Bars per day of the month: light for planned, dark for completed. In all, %(completed)s of "
                   "%(planned)s planned visits were completed. The table below gives each day's numbers.",
                   completed=total["completed"], planned=total["planned"]),
            planned_label=_("Planned"), completed_label=_("Completed"),
            bar_title=_("{day}: {planned} planned, {completed} completed")),
        "verification": charts.rate_bars(
            [(row["name"], row["verification_rate"]) for row in report["providers"]], threshold=threshold,
            title=_("Verification rate by provider, %(month)s", month=report["month"]),
            desc=_("One bar per provider: the share of its completed visits whose presence was verified. The "
                   "dashed line is the rectification threshold of %(threshold)s; bars below it are red.",
                   threshold=percent(threshold)),
            threshold_label=_("threshold %(t)s", t=percent(threshold)), none_label=_("no completed visits")),
    }

