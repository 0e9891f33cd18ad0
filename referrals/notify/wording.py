"""What a notification says: its title for each recipient (no clinical detail) and the email it renders."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.text import Truncator

from accounts.models import Membership, User
from referrals.handoffs import policies as handoffs_policies
from referrals.handoffs import registry as handoffs_registry
from referrals.handoffs.models import SYSTEM_ACTOR_NAME, HandoffEvent, HandoffStatus, TrainerHandoff
from referrals.notify.models import HANDOFF_EVENT_KIND, Notification, OutboxMessage

# --- notification kinds ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotificationKind:
    """One kind of notification: how it is worded, the page it opens, who is told.

    `title(handoff, event)` is the wording when the service writing the rows passes none (and for an
    outbox row whose in-app notification is gone); `link(handoff_public_id)` the path the notification and
    its email open; `told` says, for the reader, whom the writing service tells."""

    name: str
    title: Callable[[TrainerHandoff | None, HandoffEvent | None], str]
    link: Callable[[uuid.UUID | None], str]
    told: str = ""


def handoff_link(public_id: uuid.UUID | None) -> str:
    """The referral's page (a path: emails put SITE_URL before it); the home page for a row without one."""
    if public_id is None:
        return reverse("home")
    return reverse("handoff_detail", kwargs={"public_id": public_id})


def _handoff_event_title(handoff: TrainerHandoff | None, event: HandoffEvent | None) -> str:
    if event is None:
        raise ValueError("A handoff-event notification needs its event.")
    return notification_title(event)


NOTIFICATION_KINDS: dict[str, NotificationKind] = {}


def register_kind(kind: NotificationKind) -> NotificationKind:
    NOTIFICATION_KINDS[kind.name] = kind
    return kind


def notification_kind(name: str) -> NotificationKind:
    try:
        return NOTIFICATION_KINDS[name]
    except KeyError:
        raise ValueError(f"Unknown notification kind: {name!r}.") from None


HANDOFF_EVENT = register_kind(
    NotificationKind(
        name=HANDOFF_EVENT_KIND,
        title=_handoff_event_title,
        link=handoff_link,
        told="services._recipients: the people who can act on the referral's event, never its actor",
    )
)


# A referral's progress report is overdue (progress.reports.reports_overdue_notify): the clinic's
# physiotherapists and the trainer, each with their own title; one source key per referral and due date.
REPORT_OVERDUE_KIND = "report_overdue"


def report_overdue_source_key(handoff_id: int, due: object) -> str:
    return f"report-overdue:{handoff_id}:{due}"


def report_overdue_title(handoff: TrainerHandoff, *, for_trainer: bool) -> str:
    """No patient, nothing clinical: whose report and where."""
    if for_trainer:
        clinic = (
            handoff.plan.patient.clinic.name
            if handoffs_policies.Shown.CLINIC in TITLE_SHOWS
            else "the clinic"
        )
        return clip_title(f"A progress report for a referral of {clinic} is overdue")
    return clip_title(f"A progress report from {handoff.trainer.full_name} at {handoff.gym.name} is overdue")


def _report_overdue_title(handoff: TrainerHandoff | None, event: HandoffEvent | None) -> str:
    if handoff is None:
        return "A progress report is overdue"
    return report_overdue_title(handoff, for_trainer=False)


REPORT_OVERDUE = register_kind(
    NotificationKind(
        name=REPORT_OVERDUE_KIND,
        title=_report_overdue_title,
        link=handoff_link,
        told="progress.reports.reports_overdue_notify: the clinic's physiotherapists and the trainer",
    )
)


# A referral's progress report is due today (progress.reports.reports_overdue_notify): the trainer reminded;
# one source key per referral and due date. The clinic hears of it only once it is overdue (above).
REPORT_DUE_KIND = "report_due"


def report_due_source_key(handoff_id: int, due: object) -> str:
    return f"report-due:{handoff_id}:{due}"


def report_due_title(handoff: TrainerHandoff) -> str:
    """No patient, nothing clinical: whose referral."""
    clinic = (
        handoff.plan.patient.clinic.name if handoffs_policies.Shown.CLINIC in TITLE_SHOWS else "the clinic"
    )
    return clip_title(f"Reminder: a progress report for a referral of {clinic} is due")


def _report_due_title(handoff: TrainerHandoff | None, event: HandoffEvent | None) -> str:
    return "A progress report is due" if handoff is None else report_due_title(handoff)


REPORT_DUE = register_kind(
    NotificationKind(
        name=REPORT_DUE_KIND,
        title=_report_due_title,
        link=handoff_link,
        told="progress.reports.reports_overdue_notify: the referral's trainer, on the due date",
    )
)


# A trainer's certification or CPR/AED expires soon (timers.credentials): the trainer and their gyms'
# admins; one source key per credential and expiry date; no referral, so the link is the home page.
CREDENTIAL_EXPIRING_KIND = "credential_expiring"


def credential_expiring_source_key(credential: str, expiry: object) -> str:
    return f"credential-expiring:{credential}:{expiry}"


def credential_expiring_title(trainer: User, label: str, expiry: object) -> str:
    return clip_title(
        f"Reminder: {trainer.full_name}'s {label} expires on {expiry}: renew it to keep clients"
    )


CREDENTIAL_EXPIRING = register_kind(
    NotificationKind(
        name=CREDENTIAL_EXPIRING_KIND,
        title=lambda handoff, event: "A credential expires soon",
        link=handoff_link,
        told="timers.credentials: the trainer and the admins of their gyms, once per credential and date",
    )
)


# --- wording -------------------------------------------------------------------------------------------


def clip_title(title: str) -> str:
    """Cut to the column's length: long organization and person names must not make a title overflow it
    (and fail the send)."""
    return Truncator(title).chars(Notification._meta.get_field("title").max_length or 200)


def notification_title(event: HandoffEvent) -> str:
    """What happened, by whom and where; never the patient or anything clinical. Cut to the column's
    length (`clip_title`)."""
    return clip_title(_title(event))


# A title is written once for every recipient of the event and repeated by the email: it names only what
# both surfaces carry for every party of the handoff, consent or not (policies.shown_to_every_recipient).
TITLE_SHOWS = handoffs_policies.shown_to_every_recipient(handoffs_policies.Surface.NOTIFICATION) & (
    handoffs_policies.shown_to_every_recipient(handoffs_policies.Surface.EMAIL)
)


def _title(event: HandoffEvent) -> str:
    handoff = event.handoff
    clinic = (
        handoff.plan.patient.clinic.name if handoffs_policies.Shown.CLINIC in TITLE_SHOWS else "The clinic"
    )
    trainer = f"{handoff.trainer.full_name} at {handoff.gym.name}"
    if event.kind == HandoffEvent.Kind.CONCERN:
        # A concern that also put the referral on hold is one notification that says both.
        if getattr(getattr(event, "concern", None), "put_on_hold", False):
            return f"Urgent: {trainer} raised a concern and put a referral on hold"
        return f"Urgent: {trainer} raised a concern about a referral"
    if event.kind == HandoffEvent.Kind.CONCERN_ACKNOWLEDGED:
        return f"{clinic} acknowledged your concern about a referral"
    if event.kind == HandoffEvent.Kind.CONCERN_RESOLVED:
        return f"{clinic} resolved your concern about a referral"
    if event.kind == HandoffEvent.Kind.REFUSAL:
        if event.actor_id is None:  # the daily review found it, not the trainer trying a step
            return (
                f"{SYSTEM_ACTOR_NAME}: a referral to {trainer} cannot go on, "
                "the trainer is no longer eligible"
            )
        return f"{trainer} could not go on with a referral: the trainer is no longer eligible"
    if event.kind == HandoffEvent.Kind.REPORT_SUBMITTED:
        final = getattr(event.report, "final", False) if event.report_id is not None else False
        return f"A {'final ' if final else ''}progress report from {trainer}"
    if event.kind == HandoffEvent.Kind.REPORT_ACKNOWLEDGED:
        return f"{clinic} acknowledged your progress report"
    if event.kind == HandoffEvent.Kind.REPORT_REPLY:
        if event.actor_id is not None and event.actor_id == handoff.trainer_id:
            return f"{trainer} answered about a progress report"
        return f"{clinic} replied to your progress report"
    if event.kind == HandoffEvent.Kind.REFERRED_BACK:
        if _by_the_clinic(event):
            return f"{clinic} referred a client of yours back to the physiotherapist"
        return f"Urgent: {trainer} referred a client back to the physiotherapist"
    if event.kind == HandoffEvent.Kind.HANDOVER:
        return f"A referral of {clinic} to {trainer} has a new contact at the clinic"
    if event.kind == HandoffEvent.Kind.REMINDER:
        return f"Reminder: a referral of {clinic} is waiting for your answer"
    if event.kind == HandoffEvent.Kind.PRECAUTION_ENDED:
        return f"A precaution has ended on a referral of {clinic}"
    if event.kind == HandoffEvent.Kind.NO_SESSION:
        return f"{SYSTEM_ACTOR_NAME}: no session logged for a while on a referral of {clinic} to {trainer}"
    if event.kind == HandoffEvent.Kind.HOLD_REVIEW:
        return f"A referral of {clinic} on hold is due for review: resume, close it or set a new date"
    if event.kind == HandoffEvent.Kind.HOLD_OVERDUE:
        return (
            f"{SYSTEM_ACTOR_NAME}: a referral of {clinic} to {trainer} is still on hold past its review date"
        )
    if event.kind == HandoffEvent.Kind.HOLD_REVIEW_SET:
        return f"{trainer} set a new review date for a referral on hold"
    if event.kind == HandoffEvent.Kind.NO_ANSWER:
        return f"{SYSTEM_ACTOR_NAME}: {trainer} has not answered a referral; other trainers are suggested"
    if event.actor_id is None and event.kind == HandoffEvent.Kind.TRANSITION:
        # a timer moved it: nobody of either side did, so the title names neither as the doer
        label = HandoffStatus(event.to_status).label.lower() if event.to_status else "changed"
        return f"{SYSTEM_ACTOR_NAME}: a referral of {clinic} to {trainer} is now {label}"
    # A move: its action's title (the registry's), worded otherwise when the clinic did not act itself.
    action = handoffs_registry.action_for_move(event.from_status, event.to_status)
    if action is None:
        return f"A referral changed: {event.to_status}"
    title = action.title_by_others if action.title_by_others and not _by_the_clinic(event) else action.title
    return title.format(clinic=clinic, trainer=trainer)


def _by_the_clinic(event: HandoffEvent) -> bool:
    """Whether the event's actor is a physiotherapist of the referral's clinic (not an admin, not an
    organization change, not the system)."""
    if event.actor_id is None:
        return False
    return Membership.objects.filter(
        user_id=event.actor_id,
        organization_id=event.handoff.clinic_id,
        role=Membership.Role.PHYSIOTHERAPIST,
    ).exists()


def handoff_url(event: HandoffEvent) -> str:
    base: str = settings.SITE_URL
    return base + handoff_link(event.handoff.public_id)


def notification_link(notification: Notification) -> str:
    """The path an in-app notification opens: its kind's link to its referral (or the event's)."""
    handoff = notification.handoff or (notification.event.handoff if notification.event else None)
    return notification_kind(notification.kind).link(handoff.public_id if handoff else None)


def _fallback_title(kind: str, handoff: TrainerHandoff | None, event: HandoffEvent | None) -> str:
    return clip_title(notification_kind(kind).title(handoff, event))


def render_email(message: OutboxMessage) -> EmailMultiAlternatives:
    event, handoff = message.event, message.handoff
    if handoff is None and event is not None:
        handoff = event.handoff
    mine = Notification.objects.filter(
        source_key=message.source_key, recipient_id=message.recipient_id
    ).first()
    return _compose(
        title=mine.title if mine is not None else _fallback_title(message.kind, handoff, event),
        path=notification_kind(message.kind).link(handoff.public_id if handoff else None),
        recipient_name=message.recipient.full_name,
        email=message.recipient.email,
        urgent=mine.urgent if mine is not None else bool(event and event.urgent),
    )


def _compose(
    *, title: str, path: str, recipient_name: str, email: str, urgent: bool
) -> EmailMultiAlternatives:
    base: str = settings.SITE_URL
    context = {
        "title": title,
        "url": base + path,
        "recipient_name": recipient_name,
        "urgent": urgent,
    }
    subject = f"[Handoff] {title}"
    body = render_to_string("emails/handoff_event.txt", context)
    html = render_to_string("emails/handoff_event.html", context)
    message = EmailMultiAlternatives(subject=subject, body=body, to=[email])
    message.attach_alternative(html, "text/html")
    return message
