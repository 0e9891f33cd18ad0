"""A referral's progress charts, drawn on the server as SVG: pain and RPE per session, attendance per week,
load per prescribed exercise against the prescription, minutes of activity per week against the
150-minute guideline. Each comes with a <title> and <desc> (role="img", aria-labelledby) and a table of
the same numbers for screen readers; no JavaScript anywhere.

The library is leather (wireservice, the agate family), chosen over pygal and matplotlib's SVG backend,
measured on this machine for the pain chart of 200 sessions (three series of 200 points):
- leather 0.4.1 (released 2025-12, small and pure Python, ElementTree): about 10-20 ms p50. Its activity
  is low (releases yearly, dependency bumps monthly); it is 2,000 lines, so a fork would be cheap.
- pygal 3.1.3 (2026-06, Kozea, active): 180-240 ms, a tooltip node set per dot; 54 ms without dots, so
  not one point per session.
- matplotlib 3.11 (very active): 110-200 ms, and numpy with it; its SVG has no <title>/<desc> of its own.
Only leather is within the 50 ms of the issue. Its output is an ElementTree, so every text (an exercise
name from the snapshot) is escaped by the serializer, and the chart is safe to inline; we wrap its group
in our own <svg> root with the title, the description and the ARIA attributes. Its look is its module
`theme` (set once below): fonts of Debian's DejaVu (what WeasyPrint has too), the Okabe-Ito colours that
colour-blind readers can tell apart.
"""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import leather
from django.utils.safestring import SafeString, mark_safe

from referrals.handoffs.models import TrainerHandoff
from referrals.progress import series as progress_series
from referrals.progress.series import ExerciseLoad, ProgressSeries

SVG_NS = "http://www.w3.org/2000/svg"
WIDTH, HEIGHT = 720, 300
LOAD_HEIGHT = 240
FONT = "DejaVu Sans, Verdana, sans-serif"

# Okabe-Ito: distinguishable with any colour vision.
PAIN_BEFORE = "#E69F00"
PAIN_AFTER = "#D55E00"
RPE = "#0072B2"
ATTENDED = "#009E73"
MISSED = "#D55E00"
CANCELLED = "#999999"
MINUTES = "#56B4E9"
LOAD = "#0072B2"
REFERENCE = "#000000"


def _theme() -> None:
    theme: Any = leather.theme
    theme.background_color = "#ffffff"
    for part in ("title", "legend", "axis_title", "tick"):
        setattr(theme, f"{part}_font_family", FONT)
    theme.title_font_size = 15
    theme.title_font_char_width = 8
    theme.legend_font_size = theme.axis_title_font_size = theme.tick_font_size = 12
    theme.legend_font_char_height = theme.tick_font_char_height = theme.axis_title_font_char_height = 12
    theme.legend_font_char_width = theme.tick_font_char_width = theme.axis_title_font_char_width = 7
    theme.label_color = theme.legend_color = theme.axis_title_color = "#444444"
    theme.tick_color = "#e4e4e4"
    theme.zero_color = "#888888"
    theme.margin = 0.03


_theme()


@dataclass(frozen=True)
class Table:
    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Chart:
    """One chart as a page shows it: the SVG to inline, its title and description, the table."""

    key: str  # unique on the page: the referral's and the chart's
    title: str
    description: str
    svg: SafeString
    table: Table


# --- shapes: leather's line with a dot per point (one legend entry), columns with a guideline ---------


class _LineWithDots(leather.Line):  # type: ignore[misc]
    def __init__(self, color: str, series_name: str, dashed: bool = False, dots: bool = True) -> None:
        super().__init__(color, 2, "6 4" if dashed else None)
        self._series_name = series_name
        self._dots = dots

    def to_svg(
        self, width: float, height: float, x_scale: Any, y_scale: Any, series: Any, palette: Any
    ) -> Any:
        group = super().to_svg(width, height, x_scale, y_scale, series, palette)
        group.set("data-series", self._series_name)
        if self._dots:
            for d in series.data():
                if d.x is None or d.y is None:
                    continue
                group.append(
                    ET.Element(
                        "circle",
                        cx=f"{x_scale.project(d.x, 0, width):.1f}",
                        cy=f"{y_scale.project(d.y, height, 0):.1f}",
                        r="3",
                        fill=self._stroke_color,
                        attrib={"class": "point"},
                    )
                )
        return group


class _Columns(leather.Columns):  # type: ignore[misc]
    """Columns, and optionally a dashed horizontal guideline at `guideline` across the chart."""

    def __init__(self, color: str, series_name: str, guideline: float | None = None) -> None:
        super().__init__(color)
        self._series_name = series_name
        self._guideline = guideline

    def to_svg(
        self, width: float, height: float, x_scale: Any, y_scale: Any, series: Any, palette: Any
    ) -> Any:
        group = super().to_svg(width, height, x_scale, y_scale, series, palette)
        group.set("data-series", self._series_name)
        if self._guideline is not None:
            y = f"{y_scale.project(self._guideline, height, 0):.1f}"
            line = ET.Element("line", x1="0", x2=f"{width:.1f}", y1=y, y2=y, stroke=REFERENCE)
            line.set("stroke-width", "1.5")
            line.set("stroke-dasharray", "6 4")
            line.set("class", "guideline")
            group.append(line)
        return group


# --- the SVG root ----------------------------------------------------------------------------------------


def _svg(chart: Any, key: str, title: str, description: str, height: int = HEIGHT) -> SafeString:
    root = ET.Element(
        "svg",
        xmlns=SVG_NS,
        viewBox=f"0 0 {WIDTH} {height}",
        width=str(WIDTH),
        height=str(height),
        role="img",
        attrib={"aria-labelledby": f"{key}-title {key}-desc", "class": "chart", "id": key},
    )
    ET.SubElement(root, "title", id=f"{key}-title").text = title
    ET.SubElement(root, "desc", id=f"{key}-desc").text = description
    root.append(chart.to_svg_group(WIDTH, height))
    # ElementTree escapes every text and attribute (&, <, >, quotes): the markup is ours alone.
    markup = ET.tostring(root, encoding="unicode")
    return mark_safe(markup)  # noqa: S308  # nosec B308 B703 - ElementTree escaped every text


def _day(value: Any, index: int = 0, count: int = 0) -> str:
    day = value.date() if isinstance(value, datetime.datetime) else value
    return f"{day:%d %b}" if isinstance(day, datetime.date) else str(value)


def _whole(value: Any, index: int = 0, count: int = 0) -> str:
    return f"{value:.0f}" if float(value) == int(value) else f"{value:.1f}"


def _every(labels: Sequence[str], most: int = 12) -> Callable[[Any, int, int], str]:
    step = max(1, -(-len(labels) // most))
    return lambda value, index, count: str(value) if index % step == 0 else ""


# leather 0.4.1 ticks a span under five days in hours, and cannot count hours of a date (a TypeError):
# every date axis spans a week at least, the sessions in its middle.
SHORTEST_SPAN_DAYS = 7


def _date_domain(dates: Sequence[datetime.date]) -> tuple[datetime.date, datetime.date]:
    first, last = min(dates), max(dates)
    short = SHORTEST_SPAN_DAYS - (last - first).days
    if short > 0:
        first -= datetime.timedelta(days=short // 2)
        last += datetime.timedelta(days=short - short // 2)
    return first, last


def _score(value: int | None) -> str:
    return "" if value is None else str(value)


def _number(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


def _span(series: ProgressSeries, dates: Sequence[datetime.date]) -> str:
    first = series.start or min(dates)
    last = series.end or max(dates)
    return f"from {first:%Y-%m-%d} to {last:%Y-%m-%d}"


# --- the four charts -------------------------------------------------------------------------------------


def pain_chart(series: ProgressSeries, prefix: str) -> Chart | None:
    points = series.pain
    if not points:
        return None
    key = f"{prefix}-pain"
    title = "Pain and effort per session"
    dates = [p.session_date for p in points]
    last = points[-1]
    description = (
        f"Pain before and after each session and the session's RPE, each on a 0 to 10 scale, for "
        f"{len(points)} sessions {_span(series, dates)}. Latest session {last.session_date:%Y-%m-%d}: "
        f"pain before {_score(last.pain_before) or 'not recorded'}, after "
        f"{_score(last.pain_after) or 'not recorded'}, RPE {_score(last.rpe) or 'not recorded'}."
    )
    chart = leather.Chart(title)
    chart.set_x_scale(leather.Temporal(*_date_domain(dates)))
    chart.set_y_scale(leather.Linear(0, 10))
    chart.add_x_axis(tick_formatter=_day)
    chart.add_y_axis(ticks=[0, 2, 4, 6, 8, 10], name="0-10")
    for name, attr, color in (
        ("Pain before", "pain_before", PAIN_BEFORE),
        ("Pain after", "pain_after", PAIN_AFTER),
        ("RPE", "rpe", RPE),
    ):
        data = [(p.session_date, getattr(p, attr)) for p in points if getattr(p, attr) is not None]
        if data:
            chart.add_series(leather.Series(data, name=name), _LineWithDots(color, attr))
    table = Table(
        caption=title,
        headers=("Session date", "Pain before", "Pain after", "RPE"),
        rows=tuple(
            (f"{p.session_date:%Y-%m-%d}", _score(p.pain_before), _score(p.pain_after), _score(p.rpe))
            for p in points
        ),
    )
    return Chart(key, title, description, _svg(chart, key, title, description), table)


def attendance_chart(series: ProgressSeries, prefix: str) -> Chart | None:
    weeks = series.attendance
    if not weeks:
        return None
    key = f"{prefix}-attendance"
    title = "Attendance per week"
    totals = series.totals
    description = (
        f"Sessions per ISO week, {weeks[0].label} to {weeks[-1].label}: {totals['attended']} attended, "
        f"{totals['missed']} missed (no-show), {totals['cancelled']} cancelled, over {len(weeks)} weeks. "
        "Each column stacks attended, missed and cancelled sessions."
    )
    labels = [w.label for w in weeks]
    chart = leather.Chart(title)
    top = max(max(w.attended + w.missed + w.cancelled for w in weeks), 1)
    chart.set_x_scale(leather.Ordinal(labels))
    chart.set_y_scale(leather.Linear(0, top))
    chart.add_x_axis(tick_formatter=_every(labels))
    chart.add_y_axis(tick_formatter=_whole, name="sessions")
    # stacked by overlay: the total (cancelled on top), then attended + missed, then attended in front
    for name, attr, color, values in (
        ("Cancelled", "cancelled", CANCELLED, [w.attended + w.missed + w.cancelled for w in weeks]),
        ("Missed (no-show)", "missed", MISSED, [w.attended + w.missed for w in weeks]),
        ("Attended", "attended", ATTENDED, [w.attended for w in weeks]),
    ):
        chart.add_series(
            leather.Series(list(zip(labels, values, strict=True)), name=name), _Columns(color, attr)
        )
    table = Table(
        caption=title,
        headers=("Week", "Attended", "Missed (no-show)", "Cancelled"),
        rows=tuple((w.label, str(w.attended), str(w.missed), str(w.cancelled)) for w in weeks),
    )
    return Chart(key, title, description, _svg(chart, key, title, description), table)


def minutes_chart(series: ProgressSeries, prefix: str) -> Chart | None:
    weeks = series.minutes
    if not weeks or not any(w.minutes for w in weeks):
        return None
    key = f"{prefix}-minutes"
    guideline = series.guideline_minutes
    title = f"Minutes of moderate-to-vigorous activity per week (guideline {guideline})"
    meeting = series.totals["weeks_meeting_guideline"]
    description = (
        f"Minutes of moderate-to-vigorous activity logged per ISO week, {weeks[0].label} to "
        f"{weeks[-1].label}, against the guideline of {guideline} minutes a week (a dashed line): "
        f"{series.totals['minutes']} minutes in all; {meeting} of {len(weeks)} weeks at or above it."
    )
    labels = [w.label for w in weeks]
    chart = leather.Chart(title)
    chart.set_x_scale(leather.Ordinal(labels))
    chart.set_y_scale(leather.Linear(0, max(max(w.minutes for w in weeks), guideline) * 1.1))
    chart.add_x_axis(tick_formatter=_every(labels))
    chart.add_y_axis(tick_formatter=_whole, name="minutes")
    chart.add_series(
        leather.Series(list(zip(labels, [w.minutes for w in weeks], strict=True)), name="Minutes"),
        _Columns(MINUTES, "minutes", guideline=guideline),
    )
    table = Table(
        caption=title,
        headers=("Week", "Minutes", f"Guideline met ({guideline})"),
        rows=tuple((w.label, str(w.minutes), "yes" if w.minutes >= guideline else "no") for w in weeks),
    )
    return Chart(key, title, description, _svg(chart, key, title, description), table)


def load_chart(load: ExerciseLoad, series: ProgressSeries, prefix: str) -> Chart:
    key = f"{prefix}-load-{load.prescribed_id.hex[:12]}-{load.unit or 'none'}"
    unit = load.unit_label
    title = f"Load: {load.name} ({unit})"
    dates = [p.session_date for p in load.points]
    last = load.points[-1]
    prescribed = (
        f"against the prescribed {_number(load.prescribed)} {unit} (a dashed line)"
        if load.prescribed is not None
        else "with no prescribed load in this unit"
    )
    description = (
        f"Load of {load.name} in {unit} as done in {len(load.points)} sessions {_span(series, dates)}, "
        f"{prescribed}. Latest {last.session_date:%Y-%m-%d}: {_number(last.load)} {unit}."
    )
    chart = leather.Chart(title)
    domain = _date_domain(dates)
    values = [float(p.load) for p in load.points]
    top = max([*values, float(load.prescribed or 0)]) or 1.0
    chart.set_x_scale(leather.Temporal(*domain))
    chart.set_y_scale(leather.Linear(0, top * 1.15))
    chart.add_x_axis(tick_formatter=_day)
    chart.add_y_axis(tick_formatter=_whole, name=unit)
    chart.add_series(
        leather.Series([(p.session_date, float(p.load)) for p in load.points], name="As done"),
        _LineWithDots(LOAD, "load"),
    )
    if load.prescribed is not None:
        reference = [(domain[0], float(load.prescribed)), (domain[1], float(load.prescribed))]
        chart.add_series(
            leather.Series(reference, name="Prescribed"),
            _LineWithDots(REFERENCE, "prescribed", dashed=True, dots=False),
        )
    table = Table(
        caption=title,
        headers=("Session date", f"Load ({unit})", f"Prescribed ({unit})"),
        rows=tuple(
            (f"{p.session_date:%Y-%m-%d}", _number(p.load), _number(load.prescribed)) for p in load.points
        ),
    )
    return Chart(key, title, description, _svg(chart, key, title, description, LOAD_HEIGHT), table)


def charts_of(series: ProgressSeries, prefix: str) -> list[Chart]:
    """The charts a series has data for, in reading order: none for a referral without sessions."""
    if series.empty:
        return []
    found = [pain_chart(series, prefix), attendance_chart(series, prefix), minutes_chart(series, prefix)]
    found += [load_chart(load, series, prefix) for load in series.loads]
    return [chart for chart in found if chart is not None]


def _prefix(handoff: TrainerHandoff) -> str:
    return f"chart-{handoff.public_id.hex[:12]}"


def progress_charts(
    *, handoff: TrainerHandoff, start: datetime.date | None = None, end: datetime.date | None = None
) -> list[Chart]:
    """The charts of a referral's sessions from `start` to `end` (the report's period; open: all): one
    query. The caller checks progress.policies.can_view_progress."""
    return charts_of(
        progress_series.series_for_handoff(handoff=handoff, start=start, end=end), _prefix(handoff)
    )


def progress_charts_for_handoffs(*, handoffs: Iterable[TrainerHandoff]) -> dict[int, list[Chart]]:
    """Each referral's charts (by pk; an empty list without sessions): one query for all of them."""
    chosen = list(handoffs)
    found = progress_series.series_for_handoffs(handoffs=chosen)
    return {h.pk: charts_of(found[h.pk], _prefix(h)) for h in chosen}
