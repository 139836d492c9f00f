"""The printable monthly report in the reader's language: A4, every string in the embedded CJK
font of sync.fonts, the key figures, a chart of completion by day and one of verification by
provider, the tables, the rectification list, and the providers' workforce and rectification orders
past their deadline. Charts are reportlab.graphics drawings, so
nothing beyond reportlab is needed."""

import io
from xml.sax.saxutils import escape

from flask_babel import get_locale, gettext, pgettext
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Table, TableStyle

from backend.console.display import label
from backend.providers.workforce import CERTIFICATION_TARGET
from backend.reports.charts import daily_chart, verification_chart
from backend.reports.render import (
    LABELS,
    RATES,
    as_of,
    coverage_categories,
    coverage_rule,
    generated_at,
    heading,
    title_of,
    to_date_note,
)
from backend.visitlog.export import printable
from sync.fonts import FONT, cjk_font

WIDTH = A4[0] - 30 * mm

# wordWrap="CJK": Chinese has no spaces, so lines may break between any two characters.
_H1 = ParagraphStyle("h1", fontName=FONT, fontSize=16, leading=22, spaceAfter=2 * mm, wordWrap="CJK")
_H2 = ParagraphStyle("h2", fontName=FONT, fontSize=12, leading=16, spaceBefore=5 * mm, spaceAfter=2 * mm,
                     wordWrap="CJK")
_BODY = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=13, wordWrap="CJK")
_CELL = ParagraphStyle("cell", fontName=FONT, fontSize=7.5, leading=9.5, wordWrap="CJK")
# In English a cell breaks between words, and splits only a word wider than its column.
_CELL_WORDS = ParagraphStyle("cell-words", parent=_CELL, wordWrap=None, splitLongWords=True)


def _cell() -> ParagraphStyle:
    locale = get_locale()
    return _CELL if locale is None or locale.language == "zh" else _CELL_WORDS

REGION_COLUMNS = ("name", "planned", "completed", "rejected", "completed_on_time", "missed", "verification_rate",
                  "satisfaction_mean", "followups_overdue", "patrols_door_share", "patrols_attempted",
                  "patrol_coverage")
PROVIDER_COLUMNS = ("name", "planned", "completed", "rejected", "completed_on_time", "late_synced", "missed",
                    "verification_rate", "satisfaction_mean", "satisfaction_low_share", "followups_overdue")
SERVICE_TYPE_COLUMNS = ("name", "completed", "timed", "mean_duration_minutes", "mean_min_duration_minutes",
                        "short_visits")
CAREGIVER_COLUMNS = ("name", "role", "planned", "completed", "rejected", "completed_on_time", "missed",
                     "verification_rate", "satisfaction_mean", "cross_flagged")
# Satisfaction from the caregiver's phone beside what the elders said on call-backs.
SATISFACTION_COLUMNS = ("name", "satisfaction_rated", "satisfaction_mean", "callbacks", "callbacks_unconfirmed_share",
                        "callback_satisfaction_rated", "callback_satisfaction_mean", "satisfaction_source")
RECTIFICATION_COLUMNS = ("name", "failed", "completed", "rejected", "verification_rate", "satisfaction_source",
                         "satisfaction_mean", "callback_satisfaction_mean")
WORKFORCE_COLUMNS = ("name", "active_caregivers", "certified_caregivers", "certification_rate", "service_hours")
OVERDUE_COLUMNS = ("rectification_id", "name", "due_on", "findings")


def to_pdf(report: dict) -> bytes:
    font = cjk_font()  # registered under FONT; every string below, digits too, is set in it
    out = io.BytesIO()
    title = title_of(report)
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=title, creator=f"CareRounds; {font.describe()}",
                            initialFontName=FONT, invariant=True)
    thresholds = report["thresholds"]
    story = [
        Paragraph(title, _H1),
        Paragraph(gettext("Period: %(first)s to %(last)s (local days of %(zone)s; a task belongs to the month its "
                          "window starts in); generated %(made)s", first=report["daily"][0]["date"],
                          last=report["daily"][-1]["date"], zone=report["period"]["time_zone"],
                          made=generated_at(report)), _BODY),
        Paragraph(gettext("Data as of %(at)s", at=as_of(report)), _BODY),
        *([Paragraph(note, _BODY)] if (note := to_date_note(report)) else []),
        Paragraph(gettext("Patrol coverage counts the elders of these categories: %(categories)s. %(rule)s",
                          categories=coverage_categories(report), rule=coverage_rule(report)), _BODY),
        Paragraph(gettext("1. Key figures"), _H2), _key_figures(report),
        _section(gettext("2. Completion per day (planned and completed)"), daily_chart(report["daily"], WIDTH)),
        _section(gettext("3. Verification rate by provider"),
                 _verification_chart(report["providers"], thresholds["min_verification"])),
        _section(gettext("4. Rectification list (satisfaction below %(satisfaction)s or verification rate below "
                         "%(verification)s, over at least %(visits)s visits; providers with at least %(callbacks)s "
                         "rated call-backs are judged on call-back satisfaction)",
                         satisfaction=thresholds["min_satisfaction"],
                         verification=_format("verification_rate", thresholds["min_verification"]),
                         visits=thresholds["min_visits"], callbacks=thresholds["min_callbacks"]),
                 _table(RECTIFICATION_COLUMNS, report["rectification"],
                        empty=gettext("No provider is below a threshold this month."))),
        _section(gettext("5. By region"),
                 _table(REGION_COLUMNS, [*report["regions"], {**report["total"], "name": gettext("Total")}])),
        _section(gettext("6. Providers"), _table(PROVIDER_COLUMNS, report["providers"])),
        _section(gettext("7. Satisfaction: check-out ratings and call-backs"),
                 _table(SATISFACTION_COLUMNS, report["providers"])),
        _section(gettext("8. Duration and minimum duration (by service type)"),
                 _table(SERVICE_TYPE_COLUMNS, report["service_types"])),
        _section(gettext("9. People"), _table(CAREGIVER_COLUMNS, report["caregivers"])),
        _section(gettext("10. Workforce: certified caregivers (target %(target)s) and verified service hours",
                         target=_format("certification_rate", CERTIFICATION_TARGET)),
                 _table(WORKFORCE_COLUMNS, report["workforce"])),
        _section(gettext("11. Rectification orders past their deadline, unanswered"),
                 _table(OVERDUE_COLUMNS, report["overdue_rectifications"], first="findings",
                        empty=gettext("No rectification order is overdue."))),
        Paragraph(pgettext("report", "How each figure is defined"), _H2),
        *[Paragraph(f"{heading(key)}（{key}）：{text}" if key in LABELS else f"{key}：{text}", _BODY)
          for key, text in report["definitions"].items()],
    ]
    doc.build(story, onFirstPage=_page_number, onLaterPages=_page_number)
    return out.getvalue()


def _section(heading: str, body) -> KeepTogether:
    """A heading never left alone at the foot of a page; long tables still split (repeating their head)."""
    return KeepTogether([Paragraph(heading, _H2), body])


def _page_number(canvas, doc) -> None:
    canvas.saveState()
    canvas.setFont(FONT, 8)
    canvas.drawRightString(A4[0] - 15 * mm, 8 * mm, gettext("Page %(page)s", page=doc.page))
    canvas.restoreState()


def _format(column: str, value) -> str:
    if value is None:
        return "—"
    if column == "certification_rate" and value < CERTIFICATION_TARGET:
        return f"{value * 100:.1f}% {gettext('Below target')}"
    if column in RATES:
        return f"{value * 100:.1f}%"
    if column in ("level", "role"):
        return label(column, value)
    if column == "failed":
        return "、".join(label("failed", v) for v in value)
    if column == "satisfaction_source":
        return label("satisfaction_source", value)
    return str(value)


def _key_figures(report: dict) -> Table:
    total = report["total"]
    keys = ("planned", "completed", "rejected", "completed_on_time", "late_synced", "missed", "cancelled",
            "verification_rate", "satisfaction_mean", "satisfaction_low_share", "callback_satisfaction_mean",
            "callbacks_unconfirmed_share", "followups_opened", "followups_resolved",
            "followups_overdue", "patrols_seen_door", "patrols_seen_phone", "patrols_door_share",
            "patrols_phone_share", "patrols_attempted", "in_scope_elders", "in_scope_elders_quarterly",
            "in_scope_elders_visited", "patrol_coverage")
    cells = [(heading(key), _format(key, total[key])) for key in keys]
    cells.append((gettext("Patrol coverage target"), _format("patrol_coverage", report["patrol_coverage_target"])))
    rows = [[*cells[i], *cells[i + 1]] if i + 1 < len(cells) else [*cells[i], "", ""] for i in range(0, len(cells), 2)]
    table = Table(rows, colWidths=[WIDTH * 0.3, WIDTH * 0.2] * 2)
    table.setStyle(_style(header=False))
    return table


def _table(columns: tuple[str, ...], records: list[dict], empty: str | None = None, first: str = "name"):
    """A table whose column `first` (names, or an order's findings: text that wraps) is the widest."""
    if not records:
        return Paragraph(empty or gettext("No data."), _BODY)
    head = [Paragraph(heading(column), _cell()) for column in columns]
    # Text cells wrap (a Paragraph): names, the first column, roles and the source of satisfaction
    # ("Community worker", "Check-out ratings" are wider than a narrow column in English).
    body = [[_text(_format(column, record.get(column))) if column in ("name", "role", "satisfaction_source", first) else
             _format(column, record.get(column)) for column in columns] for record in records]
    wide = WIDTH * (0.22 if first == "name" else 0.5)
    narrow = (WIDTH - wide) / (len(columns) - 1)
    table = Table([head, *body], colWidths=[wide if column == first else narrow for column in columns], repeatRows=1)
    table.setStyle(_style(header=True))
    return table


def _text(value: str) -> Paragraph:
    """A cell of text people typed (names, findings), never read as reportlab markup: '&' or '<'
    would otherwise break the PDF."""
    return Paragraph(escape(printable(value)), _cell())


def _style(header: bool) -> TableStyle:
    commands = [("FONTNAME", (0, 0), (-1, -1), FONT), ("FONTSIZE", (0, 0), (-1, -1), 7.5),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
    if header:
        commands += [("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef2")),
                     ("ALIGN", (1, 1), (-1, -1), "RIGHT")]
    return TableStyle(commands)


def _verification_chart(providers: list[dict], threshold: float):
    if not providers:
        return Paragraph(gettext("No provider had tasks this month."), _BODY)
    return verification_chart(providers, threshold, WIDTH)
