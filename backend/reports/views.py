"""GET /reports/monthly: a region's monthly figures as JSON, CSV, XLSX or a printable PDF.

Admins any region, supervisors regions inside their subtree (anything else answers 404);
caregivers and community workers 403.
"""

from flask import Response, g

from backend.api import Blueprint
from backend.audit import reads
from backend.auth.access import roles
from backend.clock import utcnow
from backend.extensions import db
from backend.regions.models import Region
from backend.reports import render, services
from backend.scope import region_ids_clause, scoped_or_404
from schemas.reports import MonthlyReportArgs, MonthlyReportSchema

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports", description="Monthly reports (月报)")
BINARY = {"type": "string", "format": "binary"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@blp.get("/monthly")
@roles("admin", "supervisor")
@blp.arguments(MonthlyReportArgs, location="query")
@blp.response(200, MonthlyReportSchema)
def monthly(args):
    """Figures per child region, provider, service type, caregiver and day; the rectification list."""
    return _report(args)


@blp.get("/monthly.csv")
@roles("admin", "supervisor")
@blp.arguments(MonthlyReportArgs, location="query")
@blp.response(200, BINARY, content_type="text/csv", description="every table of the report, one after another")
def monthly_csv(args):
    return _file(args, render.to_csv, "text/csv; charset=utf-8", "csv")


@blp.get("/monthly.xlsx")
@roles("admin", "supervisor")
@blp.arguments(MonthlyReportArgs, location="query")
@blp.response(200, BINARY, content_type=XLSX, description="a sheet per table of the report")
def monthly_xlsx(args):
    return _file(args, render.to_xlsx, XLSX, "xlsx")


@blp.get("/monthly.pdf")
@roles("admin", "supervisor")
@blp.arguments(MonthlyReportArgs, location="query")
@blp.response(200, BINARY, content_type="application/pdf", description="the printable A4 report with charts")
def monthly_pdf(args):
    return _file(args, render.to_pdf, "application/pdf", "pdf")


def _report(args) -> dict:
    region = scoped_or_404(Region, args["region"], region_ids_clause(g.user, Region.id), what="region")
    return services.monthly_report(region, args["month"], now=utcnow())


def _file(args, write, mimetype: str, extension: str) -> Response:
    name = f"report-{args['region']}-{args['month']:%Y-%m}.{extension}"
    report = _report(args)
    body = write(report)
    reads.report_exported(report, extension)
    db.session.commit()
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})
