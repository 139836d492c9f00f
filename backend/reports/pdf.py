"""The printable monthly report: A4, Chinese headings in reportlab's CID font STSong-Light, the
key figures, a chart of completion by day and one of verification by provider, the tables and the
rectification list. Charts are reportlab.graphics drawings, so nothing beyond reportlab is needed."""

import io
from zoneinfo import ZoneInfo

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, Line, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Table, TableStyle

from backend.reports.render import FAILED_NAMES, LABELS, LEVEL_NAMES, RATES, ROLE_NAMES, title_of

FONT = "STSong-Light"
WIDTH = A4[0] - 30 * mm
PLANNED, COMPLETED, BARS = colors.HexColor("#9aa5b1"), colors.HexColor("#1f6f8b"), colors.HexColor("#1f6f8b")

_H1 = ParagraphStyle("h1", fontName=FONT, fontSize=16, leading=22, spaceAfter=2 * mm)
_H2 = ParagraphStyle("h2", fontName=FONT, fontSize=12, leading=16, spaceBefore=5 * mm, spaceAfter=2 * mm)
_BODY = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=13)
_CELL = ParagraphStyle("cell", fontName=FONT, fontSize=7.5, leading=9.5)

REGION_COLUMNS = ("name", "planned", "completed", "completed_on_time", "missed", "verification_rate",
                  "satisfaction_mean", "followups_overdue", "patrol_coverage")
PROVIDER_COLUMNS = ("name", "planned", "completed", "completed_on_time", "late_synced", "missed",
                    "verification_rate", "satisfaction_mean", "satisfaction_low_share", "followups_overdue")
SERVICE_TYPE_COLUMNS = ("name", "completed", "timed", "mean_duration_minutes", "mean_min_duration_minutes",
                        "short_visits")
CAREGIVER_COLUMNS = ("name", "role", "planned", "completed", "completed_on_time", "missed", "verification_rate",
                     "satisfaction_mean")
RECTIFICATION_COLUMNS = ("name", "failed", "completed", "verification_rate", "satisfaction_rated",
                         "satisfaction_mean")


def to_pdf(report: dict) -> bytes:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))  # idempotent; reportlab ships this CID font
    out = io.BytesIO()
    title = title_of(report)
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=title, invariant=True)
    thresholds = report["thresholds"]
    zone = report["period"]["time_zone"]
    made = report["generated_at"].astimezone(ZoneInfo(zone))
    story = [
        Paragraph(title, _H1),
        Paragraph(f"统计区间：{report['daily'][0]['date']} 至 {report['daily'][-1]['date']}（{zone} 当地日期，"
                  f"按任务时间窗开始时间归月）；生成于 {made:%Y-%m-%d %H:%M}", _BODY),
        Paragraph("一、关键指标", _H2), _key_figures(report),
        _section("二、每日完成情况（计划与完成）", _daily_chart(report["daily"])),
        _section("三、各服务机构核验率", _verification_chart(report["providers"], thresholds["min_verification"])),
        _section(f"四、整改名单（满意度低于 {thresholds['min_satisfaction']} 或核验率低于 "
                 f"{_format('verification_rate', thresholds['min_verification'])}，"
                 f"至少 {thresholds['min_visits']} 次）",
                 _table(RECTIFICATION_COLUMNS, report["rectification"], empty="本月没有机构低于整改线。")),
        _section("五、分区域", _table(REGION_COLUMNS, [*report["regions"], {**report["total"], "name": "合计"}])),
        _section("六、服务机构", _table(PROVIDER_COLUMNS, report["providers"])),
        _section("七、服务时长与最低时长（按服务类型）", _table(SERVICE_TYPE_COLUMNS, report["service_types"])),
        _section("八、人员", _table(CAREGIVER_COLUMNS, report["caregivers"])),
        Paragraph("指标说明", _H2),
        *[Paragraph(f"{LABELS.get(key, key)}（{key}）：{text}", _BODY) for key, text in report["definitions"].items()],
    ]
    doc.build(story, onFirstPage=_page_number, onLaterPages=_page_number)
    return out.getvalue()


def _section(heading: str, body) -> KeepTogether:
    """A heading never left alone at the foot of a page; long tables still split (repeating their head)."""
    return KeepTogether([Paragraph(heading, _H2), body])


def _page_number(canvas, doc) -> None:
    canvas.saveState()
    canvas.setFont(FONT, 8)
    canvas.drawRightString(A4[0] - 15 * mm, 8 * mm, f"第 {doc.page} 页")
    canvas.restoreState()


def _format(column: str, value) -> str:
    if value is None:
        return "—"
    if column in RATES:
        return f"{value * 100:.1f}%"
    if column == "level":
        return LEVEL_NAMES.get(value, value)
    if column == "role":
        return ROLE_NAMES.get(value, value or "")
    if column == "failed":
        return "、".join(FAILED_NAMES.get(v, v) for v in value)
    return str(value)


def _key_figures(report: dict) -> Table:
    total = report["total"]
    keys = ("planned", "completed", "completed_on_time", "late_synced", "missed", "cancelled", "verification_rate",
            "satisfaction_mean", "satisfaction_low_share", "followups_opened", "followups_resolved",
            "followups_overdue", "in_scope_elders", "in_scope_elders_visited", "patrol_coverage")
    cells = [(LABELS[key], _format(key, total[key])) for key in keys]
    cells.append(("巡访覆盖率目标", _format("patrol_coverage", report["patrol_coverage_target"])))
    rows = [[*cells[i], *cells[i + 1]] if i + 1 < len(cells) else [*cells[i], "", ""] for i in range(0, len(cells), 2)]
    table = Table(rows, colWidths=[WIDTH * 0.3, WIDTH * 0.2] * 2)
    table.setStyle(_style(header=False))
    return table


def _table(columns: tuple[str, ...], records: list[dict], empty: str = "无数据。"):
    if not records:
        return Paragraph(empty, _BODY)
    head = [Paragraph(LABELS.get(column, column), _CELL) for column in columns]
    body = [[Paragraph(_format(column, record.get(column)), _CELL) if column == "name" else
             _format(column, record.get(column)) for column in columns] for record in records]
    first = WIDTH * 0.22
    table = Table([head, *body], colWidths=[first] + [(WIDTH - first) / (len(columns) - 1)] * (len(columns) - 1),
                  repeatRows=1)
    table.setStyle(_style(header=True))
    return table


def _style(header: bool) -> TableStyle:
    commands = [("FONTNAME", (0, 0), (-1, -1), FONT), ("FONTSIZE", (0, 0), (-1, -1), 7.5),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
    if header:
        commands += [("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef2")),
                     ("ALIGN", (1, 1), (-1, -1), "RIGHT")]
    return TableStyle(commands)


def _legend(x: float, y: float, pairs: list[tuple]) -> Legend:
    legend = Legend()
    legend.x, legend.y = x, y
    legend.fontName, legend.fontSize = FONT, 8
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.colorNamePairs = pairs
    return legend


def _daily_chart(daily: list[dict]) -> Drawing:
    drawing = Drawing(WIDTH, 62 * mm)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 12 * mm, 10 * mm, WIDTH - 16 * mm, 42 * mm
    chart.data = [[day["planned"] for day in daily], [day["completed"] for day in daily]]
    chart.categoryAxis.categoryNames = [str(day["date"].day) for day in daily]
    chart.categoryAxis.labels.fontSize = 6
    highest = max(chart.data[0] + chart.data[1], default=0)
    chart.valueAxis.valueMin, chart.valueAxis.valueMax = 0, max(highest, 1)
    chart.valueAxis.valueStep = max(1, -(-highest // 5))  # whole tasks, about five gridlines
    chart.valueAxis.labels.fontSize = 7
    for index, colour in enumerate((PLANNED, COMPLETED)):
        chart.lines[index].strokeColor = colour
        chart.lines[index].strokeWidth = 1.2
    drawing.add(chart)
    drawing.add(_legend(WIDTH - 40 * mm, 59 * mm, [(PLANNED, "计划"), (COMPLETED, "完成")]))
    drawing.add(String(chart.x, 2 * mm, "横轴：日期（日）；纵轴：任务数", fontName=FONT, fontSize=7))
    return drawing


def _verification_chart(providers: list[dict], threshold: float):
    if not providers:
        return Paragraph("本月没有服务机构的任务。", _BODY)
    drawing = Drawing(WIDTH, 70 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 12 * mm, 22 * mm, WIDTH - 16 * mm, 44 * mm
    chart.data = [[round((p["verification_rate"] or 0) * 100, 1) for p in providers]]
    chart.categoryAxis.categoryNames = [p["name"] if len(p["name"]) <= 8 else p["name"][:7] + "…" for p in providers]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.angle = 30
    chart.categoryAxis.labels.boxAnchor = "ne"
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 20
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = "%d%%"
    chart.bars[0].fillColor = BARS
    chart.barLabels.fontSize = 6
    chart.barLabelFormat = "%.1f"
    chart.barLabels.nudge = 5
    drawing.add(chart)
    level = chart.y + chart.height * threshold
    drawing.add(Line(chart.x, level, chart.x + chart.width, level, strokeColor=colors.red, strokeWidth=0.8,
                     strokeDashArray=[3, 2]))
    drawing.add(String(chart.x + chart.width, level + 2, f"整改线 {threshold * 100:.0f}%", fontName=FONT,
                       fontSize=7, fillColor=colors.red, textAnchor="end"))
    return drawing
