"""The monthly report's two charts as reportlab drawings: tasks planned and completed by day, and
verification by provider against the rectification line."""

import math

from flask_babel import gettext, pgettext
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, Line, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth

from sync.fonts import FONT, cjk_font

PLANNED, COMPLETED, BARS = colors.HexColor("#9aa5b1"), colors.HexColor("#1f6f8b"), colors.HexColor("#1f6f8b")
NAME_CHARS = 14  # a provider's name wraps after this many characters: 2–3 lines for the longest ones
MAX_BARS_HEIGHT = 190 * mm  # the chart and its heading stay on one page however many providers there are


def nice_step(highest: float, lines: int = 5) -> int:
    """A gridline step of 1, 2 or 5 times a power of ten whole tasks giving at most about `lines` gridlines."""
    rough = max(1.0, highest / lines)
    power = 10 ** math.floor(math.log10(rough))
    return next(int(m * power) for m in (1, 2, 5, 10) if m * power >= rough)


def daily_chart(daily: list[dict], width: float) -> Drawing:
    drawing = Drawing(width, 62 * mm, initialFontName=FONT)  # or reportlab starts it in Times-Roman
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 12 * mm, 10 * mm, width - 16 * mm, 42 * mm
    chart.data = [[day["planned"] for day in daily], [day["completed"] for day in daily]]
    chart.categoryAxis.categoryNames = [str(day["date"].day) for day in daily]
    chart.categoryAxis.labels.fontName, chart.categoryAxis.labels.fontSize = FONT, 6
    # The top gridline is a whole step at or above the highest day: reportlab draws the axis only up
    # to the last step, so a maximum between two steps let a busy day run off the top.
    step = nice_step(max(chart.data[0] + chart.data[1], default=0))
    chart.valueAxis.valueMin, chart.valueAxis.valueStep = 0, step
    chart.valueAxis.valueMax = step * max(1, math.ceil(max(chart.data[0] + chart.data[1], default=0) / step))
    chart.valueAxis.labels.fontName, chart.valueAxis.labels.fontSize = FONT, 7
    for index, colour in enumerate((PLANNED, COMPLETED)):
        chart.lines[index].strokeColor = colour
        chart.lines[index].strokeWidth = 1.2
    drawing.add(chart)
    drawing.add(_legend(width - 40 * mm, 59 * mm, [(PLANNED, pgettext("report", "Planned")),
                                                    (COMPLETED, pgettext("report", "Completed"))]))
    drawing.add(String(chart.x, 2 * mm, gettext("Across: day of the month; up: tasks"), fontName=FONT, fontSize=7))
    return drawing


def verification_chart(providers: list[dict], threshold: float, width: float) -> Drawing:
    """Horizontal bars, one a provider in the report's order from the top, each named in full."""
    cjk_font()  # registered before the names are measured in it
    names = [wrap(p["name"]) for p in providers]
    row = min(9 * mm, MAX_BARS_HEIGHT / len(providers))
    size = min(7.0, row * 0.45)
    label_width = max(stringWidth(line, FONT, size) for name in names for line in name.split("\n"))
    drawing = Drawing(width, len(providers) * row + 18 * mm, initialFontName=FONT)
    chart = HorizontalBarChart()
    chart.x, chart.y = label_width + 4 * mm, 10 * mm
    chart.width, chart.height = width - chart.x - 14 * mm, len(providers) * row
    # reportlab stacks categories from the bottom up: reversed, the first provider is on top.
    chart.data = [[round((p["verification_rate"] or 0) * 100, 1) for p in reversed(providers)]]
    chart.categoryAxis.categoryNames = list(reversed(names))
    labels = chart.categoryAxis.labels
    labels.fontName, labels.fontSize, labels.leading = FONT, size, size * 1.2
    labels.boxAnchor, labels.textAnchor, labels.dx = "e", "end", -2
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 20
    chart.valueAxis.labels.fontName, chart.valueAxis.labels.fontSize = FONT, 7
    chart.valueAxis.labelTextFormat = "%d%%"
    chart.bars[0].fillColor = BARS
    chart.barLabels.fontName, chart.barLabels.fontSize = FONT, min(7.0, size)
    chart.barLabels.boxAnchor, chart.barLabels.dx = "w", 2
    chart.barLabelFormat = "%.1f%%"
    drawing.add(chart)
    level = chart.x + chart.width * threshold
    top = chart.y + chart.height
    drawing.add(Line(level, chart.y, level, top + 2 * mm, strokeColor=colors.red, strokeWidth=0.8,
                     strokeDashArray=[3, 2]))
    drawing.add(String(level, top + 3 * mm, gettext("Threshold %(rate)s", rate=f"{threshold * 100:.0f}%"),
                       fontName=FONT, fontSize=7, fillColor=colors.red, textAnchor="middle"))
    drawing.add(String(chart.x, 1 * mm, gettext("Verification rate: verified completed visits over completed visits"),
                       fontName=FONT, fontSize=7))
    return drawing


def wrap(name: str, width: int = NAME_CHARS) -> str:
    return "\n".join(name[i:i + width] for i in range(0, len(name), width))


def _legend(x: float, y: float, pairs: list[tuple]) -> Legend:
    legend = Legend()
    legend.x, legend.y = x, y
    legend.fontName, legend.fontSize = FONT, 8
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.colorNamePairs = pairs
    return legend
