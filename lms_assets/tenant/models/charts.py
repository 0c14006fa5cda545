"""A small chart for materialization metadata: daily active users and activities per day.

Hand-written SVG because the project has no plotting dependency and Dagster renders markdown
images: the chart travels as a data URI inside the markdown metadata, no file storage needed.
"""

from __future__ import annotations

import base64
from datetime import date


def daily_chart_svg(days: list[tuple[date, int, int]], width: int = 640, height: int = 220) -> str:
    """Bars: activities per day; line: daily active users. `days` = [(day, active_users, activities)]."""
    if not days:
        return ""
    pad_l, pad_b, pad_t = 48, 28, 24
    plot_w, plot_h = width - pad_l - 12, height - pad_b - pad_t
    top = max(max(a for _, _, a in days), 1)
    step = plot_w / len(days)
    bars, points = [], []
    for i, (day, users, acts) in enumerate(days):
        x = pad_l + i * step
        h = plot_h * acts / top
        bars.append(f'<rect x="{x + step * 0.1:.1f}" y="{pad_t + plot_h - h:.1f}" width="{step * 0.8:.1f}" '
                    f'height="{h:.1f}" fill="#7aa6da"><title>{day}: {acts} activities</title></rect>')
        points.append(f"{x + step / 2:.1f},{pad_t + plot_h - plot_h * users / top:.1f}")
    first, last = days[0][0], days[-1][0]
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">'
        f'<rect width="100%" height="100%" fill="white"/>'
        f'<text x="{pad_l}" y="14">activities per day (bars) and daily active users (line), UTC days</text>'
        f'<line x1="{pad_l}" y1="{pad_t + plot_h}" x2="{width - 12}" y2="{pad_t + plot_h}" stroke="#444"/>'
        f'<text x="4" y="{pad_t + 10}">{top}</text><text x="4" y="{pad_t + plot_h}">0</text>'
        + "".join(bars)
        + f'<polyline points="{" ".join(points)}" fill="none" stroke="#d9534f" stroke-width="2"/>'
        f'<text x="{pad_l}" y="{height - 8}">{first}</text>'
        f'<text x="{width - 80}" y="{height - 8}">{last}</text></svg>'
    )
    return svg


def chart_markdown(days: list[tuple[date, int, int]]) -> str:
    svg = daily_chart_svg(days)
    if not svg:
        return "no activity loaded yet"
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    rows = "\n".join(f"| {d} | {u} | {a} |" for d, u, a in days)
    return f"![daily activity]({uri})\n\n| day | active users | activities |\n|---|---|---|\n{rows}"


COMPLIANCE_COLOURS = (("complete", "#5cb85c"), ("open", "#7aa6da"), ("overdue", "#d9534f"), ("scheduled", "#cccccc"))


def compliance_chart_svg(rows: list[tuple], width: int = 640) -> str:
    """Stacked horizontal bars per audience: complete, open, overdue, scheduled. rows = [(name, enrolled, c, o, od, s)]."""
    if not rows:
        return ""
    pad_l, bar_h, pad_t = 160, 18, 24
    height = pad_t + len(rows) * (bar_h + 6) + 10
    top = max(max(int(r[1]) for r in rows), 1)
    parts = []
    for i, (name, _enrolled, *counts) in enumerate(rows):
        y, x = pad_t + i * (bar_h + 6), float(pad_l)
        parts.append(f'<text x="4" y="{y + 13}">{str(name)[:24]}</text>')
        for (label, colour), n in zip(COMPLIANCE_COLOURS, counts, strict=True):
            w = (width - pad_l - 12) * int(n) / top
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}">'
                         f'<title>{name}: {n} {label}</title></rect>')
            x += w
    legend = " ".join(f"{label} ({colour})" for label, colour in COMPLIANCE_COLOURS)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
            f'font-size="11"><rect width="100%" height="100%" fill="white"/>'
            f'<text x="4" y="14">enrolments per audience: complete, open, overdue, scheduled</text>'
            + "".join(parts) + f"<desc>{legend}</desc></svg>")


def compliance_chart_markdown(rows: list[tuple]) -> str:
    svg = compliance_chart_svg(rows)
    if not svg:
        return "no enrolments loaded yet"
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    table = "\n".join(f"| {n} | {e} | {c} | {o} | {od} | {s} |" for n, e, c, o, od, s in rows)
    return (f"![enrolments per audience]({uri})\n\n| audience | enrolled | complete | open | overdue | scheduled |\n"
            f"|---|---|---|---|---|---|\n{table}")
