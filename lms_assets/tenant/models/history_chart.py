"""The daily compliance chart: completion rate per audience over the built days (lines), overdue per day (bars).

Hand-written SVG like charts.py: Dagster renders markdown images, so the chart travels as a data URI.
"""

from __future__ import annotations

import base64
from collections import defaultdict

COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7")


def history_chart_svg(rows: list[tuple], width: int = 720, height: int = 260) -> str:
    """`rows` = [(day, audience, complete, enrolled, overdue)], oldest first."""
    days = sorted({r[0] for r in rows})
    if not days:
        return ""
    rate: dict[str, dict] = defaultdict(dict)
    overdue: dict = defaultdict(int)
    for day, audience, complete, enrolled, late in rows:
        rate[str(audience)][day] = int(complete) / int(enrolled) if enrolled else 0.0
        overdue[day] += int(late)
    pad, top = 40, 20
    plot_w, plot_h = width - 2 * pad, height - 2 * top
    step = plot_w / max(len(days), 1)
    most = max(overdue.values()) or 1
    bars = [f'<rect x="{pad + i * step + step * 0.2:.1f}" y="{top + plot_h - plot_h * overdue[d] / most:.1f}" width="{step * 0.6:.1f}" '
            f'height="{plot_h * overdue[d] / most:.1f}" fill="#ddd"><title>{d}: {overdue[d]} overdue</title></rect>' for i, d in enumerate(days)]
    lines = []
    for n, (audience, by_day) in enumerate(sorted(rate.items())):
        points = " ".join(f"{pad + i * step + step / 2:.1f},{top + plot_h * (1 - by_day[d]):.1f}" for i, d in enumerate(days) if d in by_day)
        lines.append(f'<polyline fill="none" stroke="{COLOURS[n % len(COLOURS)]}" stroke-width="2" points="{points}">'
                     f'<title>{audience}</title></polyline>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">'
            f'<rect width="{width}" height="{height}" fill="white"/>{"".join(bars)}{"".join(lines)}'
            f'<text x="{pad}" y="14">completion rate per audience (lines, 0-100%) and overdue per day (bars), '
            f'{days[0]} to {days[-1]}</text></svg>')


def history_chart_markdown(rows: list[tuple]) -> str:
    svg = history_chart_svg(rows)
    if not svg:
        return "no days built yet"
    return f"![completion rate per audience]({'data:image/svg+xml;base64,' + base64.b64encode(svg.encode()).decode()})"


def overdue_table(rows: list[tuple]) -> str:
    per_day: dict = defaultdict(int)
    for day, _, _, _, late in rows:
        per_day[day] += int(late)
    return "| day | overdue |\n|---|---|\n" + "\n".join(f"| {d} | {n} |" for d, n in sorted(per_day.items()))
