"""Charts drawn on the server: the geometry of horizontal bar charts and line charts, which
templates write out as inline SVG (no chart library in the browser; government intranets are
offline, and a chart must read without scripts).  Knows no domain.

The templates make each chart an image with a title (``role="img"``, ``<title>``) and show the
same numbers in a table beside it, so that no figure is only a shape or a colour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k at or above ``value`` (at least 1): an axis's top."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def whole_top(value: float, count: int = 4) -> float:
    """An axis's top for counts: ``count`` whole steps of 1, 2, 2.5 (from 10), 3, 5 × 10^k."""
    target = max(value, 1) / count
    power = 10 ** math.floor(math.log10(target)) if target >= 1 else 1
    for step in (1, 2, 2.5, 3, 5, 10):
        size = step * power
        if size >= target and float(size).is_integer():
            return float(size * count)
    return float(10 * power * count)  # pragma: no cover - the loop always returns


def ticks(top: float, count: int = 4) -> list[float]:
    """``count`` + 1 evenly spaced values from 0 to ``top``."""
    return [top * i / count for i in range(count + 1)]


def label(value: float) -> str:
    """A tick's text: whole numbers without a decimal point."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


@dataclass
class Bar:
    """One bar: its label, value and text, and where it is drawn."""

    label: str
    value: float
    text: str
    y: float
    width: float


@dataclass
class BarChart:
    """A horizontal bar chart: bars best first from the top, values from 0 to ``top``."""

    width: float
    height: float
    label_width: float
    bar_height: float
    top: float
    bars: list[Bar] = field(default_factory=list)
    grid: list[tuple[float, str]] = field(default_factory=list)


def bar_chart(items: Sequence[tuple[str, float, str]], *, top: float | None = None,
              width: float = 640, label_width: float = 180, bar_height: float = 28) -> BarChart:
    """A bar per (label, value, text); the scale runs to ``top`` (default: a round number at
    or above the largest value); the grid marks five values of it."""
    top = top if top is not None else nice_ceiling(max([v for _l, v, _t in items] + [0]))
    span = width - label_width - 56  # room for the value's text after the longest bar
    chart = BarChart(width, bar_height * len(items) + 28, label_width, bar_height, top)
    for index, (name, value, text) in enumerate(items):
        chart.bars.append(Bar(name, value, text, 4 + index * bar_height,
                              max(0.0, value) / top * span if top else 0.0))
    chart.grid = [(label_width + t / top * span, label(t)) for t in ticks(top)]
    return chart


@dataclass
class Line:
    """One series of a line chart: its name, the SVG ``points`` and each point's place."""

    key: str
    name: str
    points: str
    dots: list[tuple[float, float, float]]


@dataclass
class LineChart:
    """A line chart: series over the same dates, values from 0 to ``top``."""

    width: float
    height: float
    left: float
    bottom: float
    top: float
    lines: list[Line] = field(default_factory=list)
    y_grid: list[tuple[float, str]] = field(default_factory=list)
    x_labels: list[tuple[float, str]] = field(default_factory=list)


def line_chart(dates: Sequence[str], series: Sequence[tuple[str, str, Sequence[float]]], *,
               width: float = 520, height: float = 220, left: float = 44,
               right: float = 36, top_pad: float = 12, bottom_pad: float = 40,
               max_labels: int = 6) -> LineChart:
    """Lines for ``series`` (key, name, a value per date) against ``dates`` (their labels);
    the dates' labels are thinned to at most ``max_labels`` (the last one always shown)."""
    top = whole_top(max([v for _k, _n, values in series for v in values] + [0]))
    plot_w, plot_h = width - left - right, height - top_pad - bottom_pad
    bottom = top_pad + plot_h
    n = len(dates)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return bottom - (v / top) * plot_h

    chart = LineChart(width, height, left, bottom, top)
    for key, name, values in series:
        dots = [(round(x(i), 1), round(y(v), 1), v) for i, v in enumerate(values)]
        chart.lines.append(Line(key, name, " ".join(f"{a},{b}" for a, b, _v in dots), dots))
    chart.y_grid = [(round(y(t), 1), label(t)) for t in ticks(top)]
    every = max(1, math.ceil(n / max_labels))
    shown = [i for i in range(n) if (n - 1 - i) % every == 0]
    chart.x_labels = [(round(x(i), 1), dates[i]) for i in shown]
    return chart
