"""Charts as inline SVG drawn on the server: no script, no style attributes (the CSP forbids them),
only presentation attributes. Each chart is an image with a <title> and a <desc> that say what
it shows, and every bar carries its own <title>; the page puts the same numbers in a table.
"""

import math
from datetime import date

from markupsafe import Markup, escape

PLANNED, COMPLETED, GOOD, BELOW, AXIS, GRID, TEXT = ("#b8c4d0", "#0b5cad", "#0b5cad", "#b42318", "#57606a",
                                                      "#e4e8ec", "#1b1f24")
FONT = 'font-family="sans-serif"'


def _ticks(top: int, count: int = 4) -> list[int]:
    """Round steps from 0 to at least `top`."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(1, int(step))
    return list(range(0, int(math.ceil(top / step) * step) + 1, step))


def _frame(chart_id: str, width: int, height: int, title: str, desc: str, body: list[str]) -> Markup:
    head = (f'<svg class="chart" id="{chart_id}" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'xmlns="http://www.w3.org/2000/svg">'
            f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(desc)}</desc>')
    return Markup(head + "".join(body) + "</svg>")


def daily_completion(days: list[dict], *, title: str, desc: str, planned_label: str, completed_label: str,
                     bar_title: str, chart_id: str = "chart-daily") -> Markup:
    """Planned (light) and completed (dark, in front) tasks per day of the month.

    `bar_title` is a format string with {day}, {planned} and {completed}."""
    width, height, left, right, top, bottom = 760, 280, 44, 12, 34, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks = _ticks(max([d["planned"] for d in days] + [d["completed"] for d in days] + [1]))
    scale = plot_h / ticks[-1]
    slot = plot_w / max(len(days), 1)
    body = []
    for tick in ticks:
        y = top + plot_h - tick * scale
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>'
                    f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="{AXIS}" {FONT}>'
                    f'{tick}</text>')
    for n, d in enumerate(days):
        x = left + n * slot
        when: date = d["date"]
        tip = escape(bar_title.format(day=when.isoformat(), planned=d["planned"], completed=d["completed"]))
        planned_h, completed_h = d["planned"] * scale, d["completed"] * scale
        body.append(f'<g><title>{tip}</title>'
                    f'<rect x="{x + slot * 0.12:.1f}" y="{top + plot_h - planned_h:.1f}" width="{slot * 0.76:.1f}" '
                    f'height="{planned_h:.1f}" fill="{PLANNED}"/>'
                    f'<rect x="{x + slot * 0.25:.1f}" y="{top + plot_h - completed_h:.1f}" '
                    f'width="{slot * 0.5:.1f}" height="{completed_h:.1f}" fill="{COMPLETED}"/></g>')
        if when.day == 1 or when.day % 5 == 0:
            body.append(f'<text x="{x + slot / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" font-size="11" '
                        f'fill="{AXIS}" {FONT}>{when.day}</text>')
    body.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="{AXIS}"/>')
    body.append(_legend(left, 8, [(PLANNED, planned_label), (COMPLETED, completed_label)]))
    return _frame(chart_id, width, height, title, desc, body)


def rate_bars(rows: list[tuple[str, float | None]], *, threshold: float | None, title: str, desc: str,
              threshold_label: str, none_label: str, chart_id: str = "chart-verification") -> Markup:
    """One horizontal bar per (name, rate 0…1); bars under `threshold` in red, a dashed line at it."""
    width, label_w, right, top, row_h = 760, 230, 60, 30, 28
    plot_w = width - label_w - right
    height = top + row_h * max(len(rows), 1) + 26
    body = []
    for pct in (0, 25, 50, 75, 100):
        x = label_w + plot_w * pct / 100
        body.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 22}" stroke="{GRID}"/>'
                    f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" font-size="11" fill="{AXIS}" {FONT}>'
                    f'{pct}%</text>')
    for n, (name, rate) in enumerate(rows):
        y = top + n * row_h
        shown = "—" if rate is None else f"{rate * 100:.1f}%"
        body.append(f'<text x="{label_w - 8}" y="{y + row_h / 2 + 4:.1f}" text-anchor="end" font-size="12" '
                    f'fill="{TEXT}" {FONT}>{escape(_clip(name))}</text>')
        if rate is None:
            body.append(f'<text x="{label_w + 4}" y="{y + row_h / 2 + 4:.1f}" font-size="12" fill="{AXIS}" {FONT}>'
                        f'{escape(none_label)}</text>')
            continue
        colour = BELOW if threshold is not None and rate < threshold else GOOD
        bar_w = plot_w * rate
        body.append(f'<g><title>{escape(name)}: {shown}</title>'
                    f'<rect x="{label_w}" y="{y + 5}" width="{bar_w:.1f}" height="{row_h - 10}" fill="{colour}"/></g>'
                    f'<text x="{label_w + bar_w + 4:.1f}" y="{y + row_h / 2 + 4:.1f}" font-size="12" fill="{TEXT}" '
                    f'{FONT}>{shown}</text>')
    if threshold is not None:
        x = label_w + plot_w * threshold
        body.append(f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 22}" stroke="{BELOW}" '
                    f'stroke-width="2" stroke-dasharray="5 4"/>'
                    f'<text x="{x:.1f}" y="{top - 10}" text-anchor="middle" font-size="11" fill="{BELOW}" {FONT}>'
                    f'{escape(threshold_label)}</text>')
    return _frame(chart_id, width, height, title, desc, body)


def _legend(x: int, y: int, entries: list[tuple[str, str]]) -> str:
    parts = []
    for colour, text in entries:
        parts.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{x + 16}" y="{y + 11}" font-size="12" fill="{TEXT}" {FONT}>{escape(text)}</text>')
        x += 28 + 13 * len(text)
    return "".join(parts)


def _clip(name: str, limit: int = 16) -> str:
    return name if len(name) <= limit else name[:limit - 1] + "…"
