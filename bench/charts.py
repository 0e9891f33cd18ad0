"""The chart-render timing of `make bench` (issue 15: one chart in under 50 ms p50 for 200 sessions), also
on its own: `python -m bench.charts` prints it without building the benchmark's database.

Each of the four charts (progress.charts) is drawn from the series of 200 sessions (built in memory, as
progress.series builds it from its one query: the query is counted by tests/progress/test_charts.py, the
drawing is timed here) in rounds; the p50 is the median round's. The pain chart is the largest: three
lines of 200 points each."""

from __future__ import annotations

import datetime
import statistics
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

SESSIONS = 200
ROUNDS = 31
CHART_P50_TARGET_MS = 50.0


def series_of(sessions: int = SESSIONS) -> Any:
    from referrals.progress import series as s

    start = datetime.date(2026, 1, 5)
    days = [start + datetime.timedelta(days=2 * i + i // 3) for i in range(sessions)]
    pain = tuple(s.PainPoint(d, i % 7, (i + 2) % 7, 4 + i % 5) for i, d in enumerate(days))
    weeks = sorted({d - datetime.timedelta(days=d.weekday()) for d in days})
    attendance = tuple(s.WeekAttendance(w, 3, i % 2, int(i % 3 == 0)) for i, w in enumerate(weeks))
    minutes = tuple(s.WeekMinutes(w, 90 + (i * 37) % 120) for i, w in enumerate(weeks))
    points = tuple(s.LoadPoint(d, Decimal(20 + i % 10)) for i, d in enumerate(days))
    load = s.ExerciseLoad(uuid.uuid4(), "Goblet squat", "kg", Decimal(20), points)
    totals = {
        "attended": 3 * len(weeks),
        "missed": sum(w.missed for w in attendance),
        "cancelled": sum(w.cancelled for w in attendance),
        "weeks": len(weeks),
        "minutes": sum(m.minutes for m in minutes),
        "weeks_meeting_guideline": sum(1 for m in minutes if m.minutes >= 150),
    }
    return s.ProgressSeries(
        pain=pain, attendance=attendance, loads=(load,), minutes=minutes, sessions=sessions, totals=totals
    )


def _p50(draw: Callable[[], Any], rounds: int) -> float:
    draw()  # warm
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        draw()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 2)


def measure(sessions: int = SESSIONS, rounds: int = ROUNDS) -> dict[str, Any]:
    from referrals.progress import charts

    series = series_of(sessions)
    drawn: dict[str, Callable[[], Any]] = {
        "pain": lambda: charts.pain_chart(series, "bench"),
        "attendance": lambda: charts.attendance_chart(series, "bench"),
        "minutes": lambda: charts.minutes_chart(series, "bench"),
        "load": lambda: charts.load_chart(series.loads[0], series, "bench"),
    }
    p50 = {name: _p50(draw, rounds) for name, draw in drawn.items()}
    return {
        "sessions": sessions,
        "rounds": rounds,
        "p50_ms": p50,
        "slowest": max(p50, key=lambda name: p50[name]),
        "slowest_p50_ms": max(p50.values()),
        "all_four_p50_ms": _p50(lambda: charts.charts_of(series, "bench"), rounds),
    }


def target(result: dict[str, Any]) -> dict[str, Any]:
    slowest = result["slowest_p50_ms"]
    return {
        "target": f"one chart rendered in under {CHART_P50_TARGET_MS:.0f} ms p50 "
        f"for {result['sessions']} sessions",
        "measured": f"slowest ({result['slowest']}) {slowest} ms; "
        + ", ".join(f"{k} {v} ms" for k, v in result["p50_ms"].items())
        + f"; all four {result['all_four_p50_ms']} ms",
        "pass": slowest < CHART_P50_TARGET_MS,
        "short_by": round(slowest / CHART_P50_TARGET_MS, 2),
    }


def main() -> int:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    django.setup()
    result = measure()
    found = target(result)
    print(f"{'PASS' if found['pass'] else 'FALLS SHORT':12} {found['target']}: {found['measured']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
