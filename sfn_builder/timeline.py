"""An execution as a timeline (Gantt chart) in SVG: one row per step, time left to right.

Each step is a bar from its start to its end, coloured by how it ended; each job
attempt is a segment inside it, so retries show as separate pieces, and steps that
ran at the same time overlap. Steps that never ran are listed without a bar.
"""

from __future__ import annotations

import html
from datetime import datetime

from .run_history import StepRun

ROW, LABEL, WIDTH, TOP = 24, 190, 960, 56
COLORS = {
    "succeeded": "#2e8b4a",
    "failed": "#c0392b",
    "caught": "#e08a00",
    "reused": "#9aa5b1",
    "cached": "#7fb3d5",
    "running": "#3b73b9",
    "not run": "#cccccc",
}


def timeline_svg(runs: list[StepRun], title: str) -> str:
    timed = [run for run in runs if run.start is not None]
    start = min((run.start for run in timed if run.start), default=None)
    end = max((run.end or run.start for run in timed if run.start), default=None)
    span = max((end - start).total_seconds(), 1.0) if start and end else 1.0
    scale = (WIDTH - LABEL - 30) / span
    height = TOP + ROW * len(runs) + 50

    def x(moment: datetime) -> float:
        return LABEL + (moment - start).total_seconds() * scale if start else LABEL

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
        f'<text x="12" y="22" font-size="15" font-weight="bold">{html.escape(title)}</text>',
    ]
    parts += _axis(span, scale, height)
    for row, run in enumerate(runs):
        y = TOP + row * ROW
        parts.append(f'<text x="12" y="{y + 16}">{html.escape(run.step)}</text>')
        if run.start is None:
            parts.append(f'<text x="{LABEL}" y="{y + 16}" fill="#888">not run</text>')
            continue
        left, right = x(run.start), x(run.end or end or run.start)
        color = COLORS.get(run.status, "#777777")
        label = f"{run.step}: {run.status}, {duration_text(run.seconds)}"
        if len(run.attempts) > 1:
            label += f", {len(run.attempts)} attempts"
        parts.append(
            f'<rect x="{left:.1f}" y="{y + 4}" width="{max(right - left, 2):.1f}" height="{ROW - 8}" '
            f'fill="{color}" fill-opacity="0.25" stroke="{color}"><title>{html.escape(label)}</title></rect>'
        )
        for began, ended in run.attempts:
            a, b = x(began), x(ended or run.end or began)
            parts.append(
                f'<rect x="{a:.1f}" y="{y + 7}" width="{max(b - a, 2):.1f}" height="{ROW - 14}" fill="{color}"/>'
            )
        took = html.escape(duration_text(run.seconds))
        parts.append(f'<text x="{right + 4:.1f}" y="{y + 16}" fill="#555">{took}</text>')
    parts += _legend(height - 22)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _axis(span: float, scale: float, height: float) -> list[str]:
    step = next((s for s in (1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200, 21600) if span / s <= 10), 43200)
    parts = []
    tick = 0.0
    while tick <= span:
        left = LABEL + tick * scale
        parts.append(f'<line x1="{left:.1f}" y1="{TOP - 6}" x2="{left:.1f}" y2="{height - 40}" stroke="#eeeeee"/>')
        label = duration_text(tick)
        parts.append(f'<text x="{left:.1f}" y="{TOP - 10}" fill="#777" text-anchor="middle">{label}</text>')
        tick += step
    return parts


def _legend(y: float) -> list[str]:
    parts, left = [], 12.0
    for status, color in COLORS.items():
        parts.append(f'<rect x="{left}" y="{y - 10}" width="12" height="12" fill="{color}"/>')
        parts.append(f'<text x="{left + 16}" y="{y}">{status}</text>')
        left += 24 + 7.2 * len(status) + 12
    return parts


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{seconds:.1f}s" if seconds < 10 else f"{secs}s"
