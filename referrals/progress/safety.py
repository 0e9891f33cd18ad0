"""The safety fast lane of a session log: what in a logged session goes beyond the guidelines (a pain above
the plan's pain rule, an RPE or a heart rate above an effort cap, a ticked red flag), and what the
guidelines say the trainer should do then. The one rule: the service raises its urgent concern from it,
and the page and the API show the trainer its alerts."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from referrals.care.models import Precaution
from referrals.handoffs.snapshot import guidelines_read
from referrals.progress.models import SessionLog

STOP_GUIDANCE = "Stop the session and send the client back to the physiotherapist."

# What a precaution's unit may be stored as in a snapshot: its code or its label ("beats per minute").
_UNIT_CODES = {str(label): str(code) for code, label in Precaution.Unit.choices} | {
    str(code): str(code) for code, _ in Precaution.Unit.choices
}


@dataclass(frozen=True)
class Alert:
    """One thing of a session that the guidelines say stops it."""

    trigger: str  # "pain", "rpe", "heart_rate" or "red_flag"
    guideline_id: str  # the precaution's or the red flag's id in the guidelines
    exceeded: str  # what was logged against which limit
    guideline: str  # what the guidelines say: the precaution's detail (or summary), the red flag
    action: str = STOP_GUIDANCE


def _limit(precaution: Mapping[str, Any]) -> Decimal | None:
    try:
        return Decimal(str(precaution.get("limit_value")))
    except (InvalidOperation, ValueError):
        return None


def _current(precaution: Mapping[str, Any], on: datetime.date) -> bool:
    until = precaution.get("valid_until")
    if not until:
        return True
    try:
        return datetime.date.fromisoformat(str(until)) >= on
    except ValueError:
        return True  # an unreadable end date: the stricter reading, the rule holds


def _words(limit: Decimal) -> str:
    return f"{limit.normalize():f}"


def _said(precaution: Mapping[str, Any]) -> str:
    return str(precaution.get("detail") or precaution.get("summary") or precaution.get("kind_label") or "")


def safety_alerts(
    *,
    guidelines: Mapping[str, Any] | None,
    session_date: datetime.date,
    rpe: int | None,
    pain_before: int | None,
    pain_after: int | None,
    peak_heart_rate: int | None,
    red_flags: Iterable[Mapping[str, Any]],
) -> list[Alert]:
    """The alerts of a session: each pain rule (current on the session's date) a pain before or after goes
    above, each effort cap the RPE or the peak heart rate goes above, each red flag ticked (`red_flags`:
    {"id", "description"}). Equal to a limit is within it."""
    alerts: list[Alert] = []
    for precaution in (guidelines or {}).get("precautions") or []:
        limit = _limit(precaution)
        if limit is None or not _current(precaution, session_date):
            continue
        kind = precaution.get("kind")
        unit = _UNIT_CODES.get(str(precaution.get("limit_unit") or ""), "")
        checks: list[tuple[str, str, int | None]] = []
        if kind == Precaution.Kind.PAIN_RULE:
            checks = [
                ("pain", "Pain before the session", pain_before),
                ("pain", "Pain after the session", pain_after),
            ]
            rule = "the pain rule's"
        elif kind == Precaution.Kind.EFFORT_CAP and unit == Precaution.Unit.RPE:
            checks, rule = [("rpe", "Session RPE", rpe)], "the effort cap's RPE"
        elif kind == Precaution.Kind.EFFORT_CAP and unit == Precaution.Unit.BPM:
            checks, rule = [("heart_rate", "Peak heart rate", peak_heart_rate)], "the effort cap's"
        for trigger, what, value in checks:
            if value is not None and Decimal(value) > limit:
                suffix = " bpm" if trigger == "heart_rate" else ""
                alerts.append(
                    Alert(
                        trigger=trigger,
                        guideline_id=str(precaution.get("id", "")),
                        exceeded=f"{what} {value}{suffix} is above {rule} {_words(limit)}{suffix}.",
                        guideline=_said(precaution),
                    )
                )
    for flag in red_flags:
        description = str(flag.get("description", ""))
        alerts.append(
            Alert(
                trigger="red_flag",
                guideline_id=str(flag.get("id", "")),
                exceeded=f"Red flag seen: {description}",
                guideline=description,
            )
        )
    return alerts


def session_alerts(session: SessionLog) -> list[Alert]:
    """The alerts of a stored session, from the guidelines snapshot of its referral (frozen: the same
    answer on every read) and the red flags it recorded."""
    handoff = session.handoff
    return safety_alerts(
        guidelines=guidelines_read(handoff.snapshot, handoff_public_id=handoff.public_id),
        session_date=session.session_date,
        rpe=session.rpe,
        pain_before=session.pain_before,
        pain_after=session.pain_after,
        peak_heart_rate=session.peak_heart_rate,
        red_flags=session.red_flags_seen or [],
    )


def concern_text(session_date: datetime.date, alerts: Iterable[Alert]) -> str:
    """The urgent concern's text (behind login; the notification's title and email stay generic)."""
    lines = [f"Safety alert from the session of {session_date:%Y-%m-%d}:"]
    lines += [f"- {alert.exceeded}" for alert in alerts]
    return "\n".join(lines)
