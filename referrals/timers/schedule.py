"""When each timer is due, and when a person may be told: pure functions of the settings, the clinic's
timers and the organizations' time zones (the one statement of both rules; timers.services acts on them).

Deadlines count in calendar time in the clinic's zone: "5 days after it was sent" is the same wall-clock
time five days later, 119 or 121 hours across a daylight-saving change. Hours are elapsed hours. The night
is QUIET_FROM to QUIET_UNTIL local time in the recipient's zone: a notice written then is emailed at
RESUME_AT (the in-app notification shows at once)."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Organization
from referrals.handoffs.models import HandoffStatus, TrainerHandoff
from referrals.timers.models import HOLD_REVIEW_DAYS_RANGE, ClinicTimers

REMIND, ESCALATE, EXPIRE = "remind", "escalate", "expire"
STEPS = (REMIND, ESCALATE, EXPIRE)  # the order a referral goes through them


@dataclass(frozen=True)
class RequestedTimers:
    """Whole hours and days from a clinic's settings; the defaults may be fractions (the integration tests
    shorten them to seconds through the environment)."""

    remind_after_hours: float
    escalate_after_days: float
    expire_after_days: float


def default_timers() -> RequestedTimers:
    d = settings.HANDOFF_TIMER_DEFAULTS
    return RequestedTimers(
        remind_after_hours=float(d["remind_after_hours"]),
        escalate_after_days=float(d["escalate_after_days"]),
        expire_after_days=float(d["expire_after_days"]),
    )


def _merged(row: ClinicTimers | None, default: RequestedTimers) -> RequestedTimers:
    if row is None:
        return default
    return RequestedTimers(
        remind_after_hours=row.remind_after_hours or default.remind_after_hours,
        escalate_after_days=row.escalate_after_days or default.escalate_after_days,
        expire_after_days=row.expire_after_days or default.expire_after_days,
    )


def timers_for_clinics(clinic_ids: Iterable[int]) -> dict[int, RequestedTimers]:
    """Each clinic's timers, its own settings over the defaults: one query."""
    ids = set(clinic_ids)
    default = default_timers()
    rows = {row.clinic_id: row for row in ClinicTimers.objects.filter(clinic_id__in=ids)}
    return {pk: _merged(rows.get(pk), default) for pk in ids}


def shortest_wait() -> datetime.timedelta:
    """The soonest any requested referral can be due for its first step (the sweep reads only those sent
    at least this long ago): the shortest reminder delay of the defaults and every clinic's own."""
    hours = [default_timers().remind_after_hours]
    hours += [h for h in ClinicTimers.objects.values_list("remind_after_hours", flat=True) if h]
    return datetime.timedelta(hours=min(hours))


def calendar_after(moment: datetime.datetime, days: float, zone: zoneinfo.ZoneInfo) -> datetime.datetime:
    """The same wall-clock time `days` later in `zone` (aware arithmetic on a zoneinfo datetime is
    wall-clock arithmetic; the offset is the new day's)."""
    local = moment.astimezone(zone)
    later = (local.replace(tzinfo=None) + datetime.timedelta(days=days)).replace(tzinfo=zone)
    return later.astimezone(datetime.UTC)


def requested_deadlines(
    sent_at: datetime.datetime, timers: RequestedTimers, zone: zoneinfo.ZoneInfo
) -> list[tuple[str, datetime.datetime]]:
    """Each step of an unanswered referral and when it is due, in STEPS order. A step due no later than the
    one after it (a clinic that set the reminder past the escalation) is left out: it would say less."""
    due = {
        REMIND: sent_at + datetime.timedelta(hours=timers.remind_after_hours),
        ESCALATE: calendar_after(sent_at, timers.escalate_after_days, zone),
        EXPIRE: calendar_after(sent_at, timers.expire_after_days, zone),
    }
    steps = []
    for i, step in enumerate(STEPS):
        later = [due[s] for s in STEPS[i + 1 :]]
        if all(due[step] < at for at in later):
            steps.append((step, due[step]))
    return steps


def quiet_until(moment: datetime.datetime, zone: zoneinfo.ZoneInfo) -> datetime.datetime | None:
    """When a notice written at `moment` may be emailed to someone in `zone`: None (now) by day; at night
    (QUIET_FROM to QUIET_UNTIL local) the next RESUME_AT local."""
    quiet_from, quiet_until_hour, resume = settings.HANDOFF_QUIET_HOURS
    local = moment.astimezone(zone)
    if quiet_from == quiet_until_hour or quiet_until_hour <= local.hour < quiet_from:
        return None
    day = local.date() if local.hour < quiet_until_hour else local.date() + datetime.timedelta(days=1)
    return datetime.datetime.combine(day, datetime.time(resume), tzinfo=zone).astimezone(datetime.UTC)


@dataclass(frozen=True)
class RequestedClock:
    """Where an unanswered referral stands against its timers: what comes next and when, when it will be
    cancelled, and whether the clinic has been told (`overdue`)."""

    next_step: str | None
    next_due: datetime.datetime | None
    expires_at: datetime.datetime
    overdue: bool


def _timers_of(clinic: Organization) -> RequestedTimers:
    return _merged(clinic_timers_row(clinic), default_timers())  # select_related("clinic__timers")


def requested_clock(handoff: TrainerHandoff, now: datetime.datetime) -> RequestedClock | None:
    """The clock of a requested referral (None for any other): the same deadlines the sweep acts on, from
    the referral's clinic (select_related "clinic__timers" for a list: no query a row)."""
    if handoff.status != HandoffStatus.REQUESTED or handoff.sent_at is None:
        return None
    clinic = handoff.clinic
    steps = requested_deadlines(handoff.sent_at, _timers_of(clinic), clinic.zone)
    due = dict(steps)
    upcoming = [(step, at) for step, at in steps if at > now]
    escalate = due.get(ESCALATE)
    return RequestedClock(
        next_step=upcoming[0][0] if upcoming else None,
        next_due=upcoming[0][1] if upcoming else None,
        expires_at=due[EXPIRE],
        overdue=escalate is not None and escalate <= now,
    )


def zone_named(name: str) -> zoneinfo.ZoneInfo:
    """An organization's zone from its `time_zone` column (Organization.zone's rule, for a values() row)."""
    return Organization(time_zone=name or "").zone


def local_label(moment: datetime.datetime, zone: zoneinfo.ZoneInfo) -> str:
    """ "Mon 9 Mar, 10:00" in `zone`: how a deadline reads to a person of that organization."""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"


def hold_review_shown(handoff: TrainerHandoff) -> dict[str, object] | None:
    """A hold's review date as a page shows it: the day, and whether it has come (the clinic's calendar).
    None when the referral is not on hold with a review date."""
    if handoff.status != HandoffStatus.ON_HOLD or handoff.hold_review_on is None:
        return None
    due, _ = hold_review_flags(handoff)
    return {"day": day_label(handoff.hold_review_on), "due": due}


def hold_review_flags(handoff: TrainerHandoff, now: datetime.datetime | None = None) -> tuple[bool, bool]:
    """(due, overdue) of an on-hold referral's review date in the clinic's calendar: due on the day itself
    (the trainer is asked that day), overdue for the clinic from the day after (the trainer had the day to
    act). Both False when it is not on hold with a review date. Reads `handoff.clinic` (select it)."""
    day = handoff.hold_review_on
    if handoff.status != HandoffStatus.ON_HOLD or day is None:
        return False, False
    today = local_today(handoff.clinic.zone, now)
    return day <= today, day < today


def latest_today(now: datetime.datetime | None = None) -> datetime.date:
    """The latest calendar day it is anywhere at `now`: no zone is more than a day ahead of UTC. A query
    bound; the exact day of each row is its clinic's (`local_today`)."""
    return ((now or timezone.now()).astimezone(datetime.UTC) + datetime.timedelta(days=1)).date()


def day_label(day: datetime.date) -> str:
    """ "9 Mar 2026": a review date as people read it."""
    return f"{day.day} {day:%b %Y}"


# --- care that stalls: accepted or in progress with no session logged --------------------------------------

NUDGE_HOUR = 9  # a nudge falls due at this local hour of the clinic's day: by day for both sides


IDLE_FIELDS = {HandoffStatus.ACCEPTED: "accept_idle_days", HandoffStatus.IN_PROGRESS: "session_idle_days"}


def nudge_days(status: str, row: ClinicTimers | None = None) -> int | None:
    """Days without a session after which the trainer and the clinic are nudged, the clinic's own setting
    (`row`) over the default; None: no nudge in this status."""
    field = IDLE_FIELDS.get(HandoffStatus(status))
    if field is None:
        return None
    return int((getattr(row, field) if row is not None else None) or settings.HANDOFF_TIMER_DEFAULTS[field])


def shortest_nudge_days(rows: Iterable[ClinicTimers]) -> int:
    """The fewest days without a session after which any referral can be nudged: the shortest idle days
    of the defaults and of the clinics' own settings in `rows`."""
    fields = IDLE_FIELDS.values()
    days = [int(settings.HANDOFF_TIMER_DEFAULTS[field]) for field in fields]
    days += [int(own) for row in rows for own in (getattr(row, field) for field in fields) if own]
    return min(days)


def care_since_bound(now: datetime.datetime, days: int) -> datetime.date:
    """The latest last sign of care that can be due by `now` after `days` without a session, in any zone:
    NUDGE_HOUR local of a day falls on the day before in UTC at the earliest (UTC+14), so one day past
    today in UTC, less `days`."""
    return now.astimezone(datetime.UTC).date() + datetime.timedelta(days=1 - days)


def clinic_timers_row(clinic: Organization) -> ClinicTimers | None:
    """A clinic's own timers row, None when it has none (select_related "timers": no query)."""
    try:
        return clinic.timers
    except ClinicTimers.DoesNotExist:
        return None


# --- a hold and its review -----------------------------------------------------------------------------


def hold_review_days(row: ClinicTimers | None = None) -> int:
    """Days after it was put on hold that a hold with no review date asked is reviewed."""
    own = row.hold_review_days if row is not None else None
    return int(own or settings.HANDOFF_TIMER_DEFAULTS["hold_review_days"])


def hold_review_default(clinic: Organization, today: datetime.date) -> datetime.date:
    """The review date of a hold started `today` (the clinic's calendar) when none was asked."""
    return today + datetime.timedelta(days=hold_review_days(clinic_timers_row(clinic)))


def review_date_clean(
    clinic: Organization, review_on: object, now: datetime.datetime | None = None
) -> datetime.date:
    """A review date a person asked for a hold: a day after today in the clinic's calendar and within
    HOLD_REVIEW_DAYS_RANGE's longest; else a ValidationError on `review_on`."""
    if not isinstance(review_on, datetime.date) or isinstance(review_on, datetime.datetime):
        raise ValidationError({"review_on": "Enter a date."})
    today = local_today(clinic.zone, now)
    longest = HOLD_REVIEW_DAYS_RANGE[1]
    if review_on <= today:
        raise ValidationError({"review_on": "The review date must be after today."})
    if review_on > today + datetime.timedelta(days=longest):
        raise ValidationError({"review_on": f"The review date must be within {longest} days."})
    return review_on


def hold_review_due(review_on: datetime.date, zone: zoneinfo.ZoneInfo) -> datetime.datetime:
    """The trainer is asked to resume or close the referral at NUDGE_HOUR local on its review day."""
    return at_nudge_hour(review_on, zone)


def hold_overdue_due(review_on: datetime.date, zone: zoneinfo.ZoneInfo) -> datetime.datetime:
    """Still on hold `hold_overdue_days` after its review day: the clinic is told, at NUDGE_HOUR local."""
    days = int(settings.HANDOFF_TIMER_DEFAULTS["hold_overdue_days"])
    return at_nudge_hour(review_on + datetime.timedelta(days=days), zone)


def local_today(zone: zoneinfo.ZoneInfo, now: datetime.datetime | None = None) -> datetime.date:
    """Today in `zone` (the clinic's calendar day of a referral's move or session)."""
    return (now or timezone.now()).astimezone(zone).date()


def nudge_due(anchor: datetime.date, days: int, zone: zoneinfo.ZoneInfo) -> datetime.datetime:
    """NUDGE_HOUR local, `days` calendar days after the last sign of care (a session, the move into the
    status)."""
    return at_nudge_hour(anchor + datetime.timedelta(days=days), zone)


def at_nudge_hour(day: datetime.date, zone: zoneinfo.ZoneInfo) -> datetime.datetime:
    """NUDGE_HOUR local on `day` in `zone`, in UTC: when a care or hold timer of that day falls due."""
    return datetime.datetime.combine(day, datetime.time(NUDGE_HOUR), tzinfo=zone).astimezone(datetime.UTC)
