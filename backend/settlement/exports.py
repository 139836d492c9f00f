"""A statement as files: CSV with machine codes and fen for finance systems, XLSX and a printable
PDF in the reader's language (Chinese unless English is asked for) with sign-off blocks for the
provider and the bureau."""

import csv
import io
from xml.sax.saxutils import escape

from flask_babel import gettext
from sqlalchemy import select

from backend.extensions import db
from backend.i18n import N_, is_english
from backend.plans.models import ServiceType
from backend.visitlog.export import printable, spreadsheet_text

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_COLUMNS = ("line_no", "state", "task_id", "visit_id", "elder_id", "care_plan_id", "service_type", "served_on",
               "funding", "unit", "units", "minutes", "amount_fen", "government_fen", "copay_fen", "reason",
               "adjusts_line_id", "disputed")
HEADINGS = {
    "line_no": N_("No."), "state": N_("State"), "elder_name": N_("Elder"), "service_type": N_("Service"),
    "served_on": N_("Date"), "funding": N_("Funding"), "units": N_("Units"), "minutes": N_("Minutes"),
    "amount": N_("Amount (yuan)"), "government": N_("Government share (yuan)"), "copay": N_("Elder co-pay (yuan)"),
    "reason": N_("Reason"), "disputed": N_("Disputed by the provider"),
}
CAP_HEADINGS = (N_("Elder"), N_("Month served"), N_("Monthly cap (yuan)"), N_("Monthly cap (minutes)"),
                N_("Government share used (yuan)"), N_("Minutes paid"))
PEOPLE_COLUMNS = ("line_no", "state", "elder_name", "service_type", "served_on", "funding", "units", "minutes",
                  "amount", "government", "copay", "reason", "disputed")
WORDS = {
    "payable": N_("Payable"), "held": N_("Held"), "rejected": N_("Not payable"), "adjustment": N_("Adjustment"),
    "government": N_("Government purchase"), "copay": N_("Co-pay"), "self_pay": N_("Self-pay"),
    "clawback": N_("Clawback"), "release": N_("Release"), "awaiting_review": N_("Awaiting review"),
    "open_followup": N_("Open follow-up"), "too_short": N_("Too short"), "no_price": N_("No price set"),
    "draft": N_("Draft"), "issued": N_("Issued to the provider"), "confirmed": N_("Confirmed by the provider"),
    "disputed": N_("Disputed by the provider"), "locked": N_("Approved and locked"), "superseded": N_("Superseded"),
}


def word(code) -> str:
    if code is None:
        return ""
    return gettext(WORDS[code]) if code in WORDS else str(code)


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def service_names() -> dict[str, str]:
    column = ServiceType.name_en if is_english() else ServiceType.name_zh
    return dict(db.session.execute(select(ServiceType.code, column)).all())


def title(statement: dict) -> str:
    return gettext("Settlement statement of %(provider)s, %(month)s", provider=statement["provider_name"],
                   month=statement["month"])


MONEY = {"amount", "government", "copay"}


def people_rows(statement: dict) -> list[list]:
    names = service_names()
    rows = []
    for line in statement["lines"]:
        values = {**line, "state": word(line["state"]), "service_type": names.get(line["service_type"],
                                                                                 line["service_type"]),
                  "served_on": line["served_on"].isoformat(), "funding": word(line["funding"]),
                  "amount": yuan(line["amount_fen"]), "government": yuan(line["government_fen"]),
                  "copay": yuan(line["copay_fen"]), "reason": word(line["reason"]),
                  "disputed": line.get("disputed") or ""}
        # Typed text is made safe for a spreadsheet; the amounts are ours (a clawback's '-15.00' stays).
        rows.append([values[name] if name in MONEY else spreadsheet_text(values[name]) for name in PEOPLE_COLUMNS])
    return rows


def cap_rows(statement: dict) -> list[list[str]]:
    """Each plan's usage against its monthly cap, as people read it (a cap not set: blank)."""
    return [[spreadsheet_text(usage["elder_name"]), usage["month"],
             "" if usage["cap_fen"] is None else yuan(usage["cap_fen"]),
             "" if usage["cap_minutes"] is None else str(usage["cap_minutes"]),
             yuan(usage["government_fen"]), str(usage["minutes"])] for usage in statement["cap_usage"]]


def to_csv(statement: dict) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["statement_id", "provider_id", "month", "seq", "status", *CSV_COLUMNS])
    head = [statement["id"], statement["provider_id"], statement["month"], statement["seq"], statement["status"]]
    for line in statement["lines"]:
        writer.writerow(head + [_csv_value(line.get(name)) for name in CSV_COLUMNS])
    return out.getvalue().encode("utf-8")


def _csv_value(value):
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return spreadsheet_text(value)


def to_xlsx(statement: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = gettext("Statement")
    sheet.append([spreadsheet_text(title(statement))])
    sheet["A1"].font = Font(bold=True, size=14)
    for label, value in summary_rows(statement):
        sheet.append([label, value])
    sheet.append([])
    sheet.append([gettext(HEADINGS[name]) for name in PEOPLE_COLUMNS])
    for row in people_rows(statement):
        sheet.append(row)
    if statement["cap_usage"]:
        caps = book.create_sheet(gettext("Usage against monthly caps"))
        caps.append([gettext(heading) for heading in CAP_HEADINGS])
        for row in cap_rows(statement):
            caps.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def summary_rows(statement: dict) -> list[tuple[str, str]]:
    return [
        (gettext("Status"), word(statement["status"])),
        (gettext("Total (yuan)"), yuan(statement["total_fen"])),
        (gettext("Government share (yuan)"), yuan(statement["government_fen"])),
        (gettext("Elder co-pay (yuan)"), yuan(statement["copay_fen"])),
        (gettext("Lines"), str(statement["line_count"])),
        (gettext("Hash (SHA-256)"), statement["hash"] or gettext("not issued: a draft, recomputed on every read")),
    ]


def to_pdf(statement: dict) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from sync.fonts import FONT, cjk_font

    font = cjk_font()
    h1 = ParagraphStyle("h1", fontName=FONT, fontSize=15, leading=21, spaceAfter=3 * mm, wordWrap="CJK")
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=13, wordWrap="CJK")
    cell = ParagraphStyle("cell", fontName=FONT, fontSize=7.5, leading=9.5, wordWrap="CJK")
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=12 * mm, bottomMargin=12 * mm, title=printable(title(statement)),
                            creator=f"CareRounds; {font.describe()}", initialFontName=FONT, invariant=True)
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("FONTNAME", (0, 0), (-1, -1), FONT),
                       ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                       ("VALIGN", (0, 0), (-1, -1), "TOP")])
    summary = Table([[_text(label, body), _text(value, body)] for label, value in summary_rows(statement)],
                    colWidths=[45 * mm, 180 * mm])
    summary.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT), ("GRID", (0, 0), (-1, -1), 0.4, colors.grey)]))
    header = [Paragraph(gettext(HEADINGS[name]), cell) for name in PEOPLE_COLUMNS]
    rows = [[_text(value, cell) for value in row] for row in people_rows(statement)]
    widths = [13, 16, 20, 16, 20, 20, 11, 12, 18, 20, 20, 22, 57]
    lines = Table([header, *rows] if rows else [header], colWidths=[w * mm for w in widths], repeatRows=1)
    lines.setStyle(grid)
    signs = Table([[Paragraph(gettext("Provider (seal) / person in charge:"), body),
                    Paragraph(gettext("Civil affairs bureau (seal) / approved by:"), body)],
                   [Paragraph(gettext("Date:"), body), Paragraph(gettext("Date:"), body)]],
                  colWidths=[130 * mm, 130 * mm], rowHeights=[22 * mm, 10 * mm])
    signs.setStyle(TableStyle([("BOX", (0, 0), (0, -1), 0.6, colors.black), ("BOX", (1, 0), (1, -1), 0.6, colors.black),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story = [_text(title(statement), h1), summary, Spacer(1, 4 * mm), lines]
    if statement["cap_usage"]:
        caps = Table([[Paragraph(gettext(heading), cell) for heading in CAP_HEADINGS],
                      *[[_text(value, cell) for value in row] for row in cap_rows(statement)]],
                     colWidths=[w * mm for w in (50, 25, 35, 35, 45, 30)], repeatRows=1)
        caps.setStyle(grid)
        story += [Spacer(1, 4 * mm), _text(gettext("Usage against monthly caps"), body), caps]
    doc.build([*story, Spacer(1, 8 * mm), signs])
    return out.getvalue()


def _text(value, style):
    """A paragraph of text people typed (names, dispute reasons), never read as reportlab markup:
    '&' or '<' in a provider's name would otherwise break the PDF."""
    from reportlab.platypus import Paragraph

    return Paragraph(escape(printable(str(value))), style)
