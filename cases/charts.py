"""Small server-rendered SVG charts: no script, no build chain, readable by screen readers.

Each function takes already-translated labels and plain numbers and returns a ``Chart``:
the SVG markup (every label escaped by ``format_html``) and the same numbers as table rows,
which the page shows under the chart (``templates/cases/charts/chart.html``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

# Small enough that text stays legible when a phone shrinks the chart to its width.
WIDTH = 480
HEIGHT = 240
_LEFT = 50
_RIGHT = WIDTH - 12
_BOTTOM = HEIGHT - 30
_TOP = 14
_LEGEND_ROW = 20
_FONT = 13
# Colours meet 3:1 against white; every series also has its own dash pattern, so none relies on colour alone.
_COLOURS = ("#0b5cad", "#b35900", "#116329", "#8250df", "#a40e26", "#57606a")
_DASHES = ("", "7 4", "2 3", "9 3 2 3", "4 4", "1 2")


@dataclass(frozen=True)
class Series:
    """One named line; ``values`` line up with the chart's labels, None where there is no value."""

    name: str
    values: Sequence[float | None]


@dataclass(frozen=True)
class TimePoint:
    at: dt.datetime
    value: float
    marked: bool = False


@dataclass(frozen=True)
class TimeSeries:
    name: str
    points: Sequence[TimePoint]


@dataclass(frozen=True)
class Reference:
    """A horizontal line at ``value`` with its label, e.g. a target rate."""

    value: float
    label: str


@dataclass(frozen=True)
class Chart:
    svg: SafeString
    title: str
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


def number(value: float | None, decimals: int = 1) -> str:
    if value is None:
        return "—"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.{decimals}f}"


def bar_chart(
    *,
    chart_id: str,
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    label_header: str,
    value_header: str,
    label_every: int = 1,
    empty_text: str = "",
) -> Chart:
    """Vertical bars, one per label; only every ``label_every``-th label is written under the axis."""
    top, ticks = _scale(max(values, default=0), integer=all(float(v).is_integer() for v in values))
    parts = _grid(ticks, top, _TOP, number)
    slot = (_RIGHT - _LEFT) / max(len(values), 1)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        height = value / top * (_BOTTOM - _TOP)
        parts.append(
            format_html(
                '<rect class="bar" x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>',
                _f(_LEFT + slot * (i + 0.15)),
                _f(_BOTTOM - height),
                _f(slot * 0.7),
                _f(height),
                _COLOURS[0],
                label,
                number(value),
            )
        )
        if i % label_every == 0:
            parts.append(_x_label(_LEFT + slot * (i + 0.5), label))
    if not any(values):
        parts.append(_empty(empty_text, _TOP))
    return Chart(
        svg=_svg(chart_id, title, HEIGHT, parts),
        title=title,
        headers=[label_header, value_header],
        rows=[[label, number(value)] for label, value in zip(labels, values, strict=True)],
    )


def line_chart(
    *,
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    label_header: str,
    y_max: float | None = None,
    reference: Reference | None = None,
    format_value: Callable[[float | None], str] = number,
    empty_text: str = "",
) -> Chart:
    """Lines over evenly spaced labels (months); a gap where a value is None."""
    present = [v for s in series for v in s.values if v is not None]
    highest = max([*present, reference.value if reference else 0], default=0)
    top, ticks = _scale(y_max if y_max is not None else highest, integer=False)
    legend, legend_height = _legend([s.name for s in series], marks=False)
    plot_top = _TOP + legend_height
    parts = [*legend, *_grid(ticks, top, plot_top, format_value)]
    slot = (_RIGHT - _LEFT) / max(len(labels), 1)
    for i, label in enumerate(labels):
        parts.append(_x_label(_LEFT + slot * (i + 0.5), label))

    for n, one in enumerate(series):
        placed = [
            None if v is None else (_LEFT + slot * (i + 0.5), _y(v, top, plot_top)) for i, v in enumerate(one.values)
        ]
        parts.extend(_lines(n, placed))
        for xy, label, value in zip(placed, labels, one.values, strict=True):
            if xy is not None:
                parts.append(_dot(n, xy, f"{one.name}, {label}: {format_value(value)}", marked=False))
    if reference is not None:
        parts.append(_reference(reference, top, plot_top))
    if not present:
        parts.append(_empty(empty_text, plot_top))
    return Chart(
        svg=_svg(chart_id, title, HEIGHT + legend_height, parts),
        title=title,
        headers=[label_header, *(s.name for s in series)],
        rows=[[label, *(format_value(s.values[i]) for s in series)] for i, label in enumerate(labels)],
    )


def time_chart(
    *,
    chart_id: str,
    title: str,
    series: Sequence[TimeSeries],
    marked_label: str,
    format_value: Callable[[float | None], str] = number,
    empty_text: str = "",
) -> Chart:
    """Lines over real time (a price seen at moments); marked points drawn as squares, explained in the legend.

    Its numbers are not repeated as rows: the page shows the points in its own table.
    """
    points = [p for s in series for p in s.points]
    top, ticks = _scale(max((p.value for p in points), default=0), integer=False)
    has_marks = any(p.marked for p in points)
    legend, legend_height = _legend([s.name for s in series], marks=has_marks, marked_label=marked_label)
    plot_top = _TOP + legend_height
    parts = [*legend, *_grid(ticks, top, plot_top, format_value)]
    if points:
        start = min(p.at for p in points)
        span = (max(p.at for p in points) - start).total_seconds()

        def x_of(at: dt.datetime) -> float:
            share = (at - start).total_seconds() / span if span else 0.5
            return _LEFT + 8 + share * (_RIGHT - _LEFT - 16)

        if span:
            # The outer dates are aligned to the ends so they stay inside the chart.
            for k, anchor in enumerate(("start", "middle", "end")):
                at = start + dt.timedelta(seconds=span * k / 2)
                parts.append(_x_label(x_of(at), _day(at), anchor=anchor))
        else:
            parts.append(_x_label(x_of(start), _day(start)))
        for n, one in enumerate(series):
            ordered = sorted(one.points, key=lambda p: p.at)
            placed = [(x_of(p.at), _y(p.value, top, plot_top)) for p in ordered]
            parts.extend(_lines(n, list(placed)))
            for xy, p in zip(placed, ordered, strict=True):
                note = f"{one.name}, {_moment(p.at)}: {format_value(p.value)}"
                parts.append(_dot(n, xy, f"{note} ({marked_label})" if p.marked else note, marked=p.marked))
    else:
        parts.append(_empty(empty_text, plot_top))
    return Chart(svg=_svg(chart_id, title, HEIGHT + legend_height, parts), title=title)


def _svg(chart_id: str, title: str, height: float, parts: Iterable[SafeString]) -> SafeString:
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {} {}" role="img" '
        'aria-labelledby="{}-title"><title id="{}-title">{}</title>{}</svg>',
        WIDTH,
        _f(height),
        chart_id,
        chart_id,
        title,
        _join(parts),
    )


def _join(parts: Iterable[SafeString]) -> SafeString:
    return format_html_join("", "{}", ((part,) for part in parts))


def _f(value: float) -> str:
    return f"{value:.1f}"


def _y(value: float, top: float, plot_top: float) -> float:
    return _BOTTOM - value / top * (_BOTTOM - plot_top)


def _scale(highest: float, *, integer: bool) -> tuple[float, list[float]]:
    """A round top for the axis above ``highest``, and four or five ticks up to it."""
    if highest <= 0:
        return 1.0, [0.0, 1.0] if integer else [0.0, 0.25, 0.5, 0.75, 1.0]
    rough = highest / 4
    magnitude = 10 ** math.floor(math.log10(rough))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= rough)
    if integer:
        step = max(1.0, math.ceil(step))
    top = step * math.ceil(highest / step - 1e-9)
    count = round(top / step)
    return top, [step * k for k in range(count + 1)]


def _grid(
    ticks: Sequence[float], top: float, plot_top: float, format_value: Callable[[float | None], str]
) -> list[SafeString]:
    parts = []
    for tick in ticks:
        y = _y(tick, top, plot_top)
        parts.append(
            format_html(
                '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}" stroke="#d0d7de"/>'
                '<text x="{}" y="{}" text-anchor="end" font-size="{}" fill="#57606a">{}</text>',
                _LEFT,
                _RIGHT,
                _f(y),
                _f(y),
                _LEFT - 6,
                _f(y + 4),
                _FONT,
                format_value(tick),
            )
        )
    return parts


def _x_label(x: float, text: str, *, anchor: str = "middle") -> SafeString:
    return format_html(
        '<text x="{}" y="{}" text-anchor="{}" font-size="{}" fill="#57606a">{}</text>',
        _f(x),
        _BOTTOM + 18,
        anchor,
        _FONT,
        text,
    )


def _lines(n: int, points: Sequence[tuple[float, float] | None]) -> list[SafeString]:
    """One polyline per run of points without a gap."""
    runs: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            runs.append([])
        else:
            runs[-1].append(point)
    return [
        format_html(
            '<polyline fill="none" stroke="{}" stroke-width="2" stroke-dasharray="{}" points="{}"/>',
            _COLOURS[n % len(_COLOURS)],
            _DASHES[n % len(_DASHES)] or "none",
            " ".join(f"{_f(x)},{_f(y)}" for x, y in run),
        )
        for run in runs
        if len(run) > 1
    ]


def _dot(n: int, xy: tuple[float, float], note: str, *, marked: bool) -> SafeString:
    x, y = xy
    colour = _COLOURS[n % len(_COLOURS)]
    if marked:
        return format_html(
            '<rect x="{}" y="{}" width="9" height="9" fill="{}" stroke="#1b1f24"><title>{}</title></rect>',
            _f(x - 4.5),
            _f(y - 4.5),
            colour,
            note,
        )
    return format_html(
        '<circle cx="{}" cy="{}" r="3.5" fill="#fff" stroke="{}" stroke-width="2"><title>{}</title></circle>',
        _f(x),
        _f(y),
        colour,
        note,
    )


def _legend(names: Sequence[str], *, marks: bool, marked_label: str = "") -> tuple[list[SafeString], int]:
    """Legend entries in rows across the top; returns them and the height they take."""
    entries: list[tuple[int | None, str]] = [(n, name) for n, name in enumerate(names)]
    if marks:
        entries.append((None, marked_label))
    if len(names) < 2 and not marks:
        return [], 0
    parts: list[SafeString] = []
    x, row = float(_LEFT), 0
    for n, text in entries:
        width = 38 + 7.5 * len(text)
        if x + width > _RIGHT and x > _LEFT:
            x, row = float(_LEFT), row + 1
        y = _TOP + row * _LEGEND_ROW + 6
        if n is None:
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="9" height="9" fill="#57606a" stroke="#1b1f24"/>', _f(x + 8), _f(y - 4.5)
                )
            )
        else:
            parts.append(
                format_html(
                    '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-width="2" stroke-dasharray="{}"/>',
                    _f(x),
                    _f(x + 24),
                    _f(y),
                    _f(y),
                    _COLOURS[n % len(_COLOURS)],
                    _DASHES[n % len(_DASHES)] or "none",
                )
            )
        parts.append(format_html('<text x="{}" y="{}" font-size="{}">{}</text>', _f(x + 30), _f(y + 4), _FONT, text))
        x += width
    return parts, (row + 1) * _LEGEND_ROW + 6


def _reference(reference: Reference, top: float, plot_top: float) -> SafeString:
    y = _y(reference.value, top, plot_top)
    return format_html(
        '<line class="reference" x1="{}" x2="{}" y1="{}" y2="{}" stroke="#1b1f24" stroke-width="1.5" '
        'stroke-dasharray="3 3"/><text x="{}" y="{}" text-anchor="end" font-size="{}" fill="#1b1f24">{}</text>',
        _LEFT,
        _RIGHT,
        _f(y),
        _f(y),
        _RIGHT,
        _f(y - 5),
        _FONT,
        reference.label,
    )


def _empty(text: str, plot_top: float) -> SafeString:
    if not text:
        return format_html("")
    return format_html(
        '<text x="{}" y="{}" text-anchor="middle" font-size="{}" fill="#57606a">{}</text>',
        (_LEFT + _RIGHT) // 2,
        _f((plot_top + _BOTTOM) / 2),
        _FONT + 1,
        text,
    )


def _day(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d")


def _moment(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")
