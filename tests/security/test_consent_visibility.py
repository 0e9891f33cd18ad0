"""What consent shows or hides of a handoff is decided once (policies.handoff_shown) and every surface
follows it: the handoff page and its timeline, the handout, the trainer's inbox, the API's detail and
list, the in-app notification titles and the emails.

The test at the bottom enumerates `policies.Surface`: a surface added to the policy without a renderer
here fails by name, and every rendered surface must show what the policy allows and nothing it hides."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from referrals import access as referrals_access
from referrals.care.models import Consent
from referrals.handoffs import policies as handoffs_policies
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import HandoffStatus, TrainerHandoff
from referrals.handoffs.policies import Shown, Surface
from referrals.notify.models import Notification
from tests.conftest import World, login

pytestmark = pytest.mark.django_db

CLINIC = "Lakeside Physio"
PHYSIO = "Pat Physio"
PATIENT = "Jamie Patient"
DIAGNOSIS = "Right rotator cuff tendinopathy"
RED_FLAG = "Night pain or numbness down the arm"  # one of the guidelines
# Each consent-governed part of a handoff, by a text only it carries.
VALUES = {
    Shown.CLINIC: CLINIC,
    Shown.PHYSIOTHERAPIST: PHYSIO,
    Shown.PATIENT_NAME: PATIENT,
    Shown.DIAGNOSIS: DIAGNOSIS,
    Shown.GUIDELINES: RED_FLAG,
}


def send(world: World, capture: Any, scope: str = Consent.Scope.WITH_DIAGNOSIS) -> TrainerHandoff:
    Consent.objects.filter(patient=world.plan.patient, gym=world.gym).update(scope=scope)
    with capture(execute=True):
        return handoffs_sending.plan_discharge(
            plan=world.plan, trainer=world.trainer, gym=world.gym, actor=world.physio
        )


def withdraw_on_the_page(client: Client, world: World, capture: Any) -> None:
    consent = Consent.objects.get(patient=world.plan.patient, gym=world.gym, withdrawn_at__isnull=True)
    with capture(execute=True):
        response = login(client, world.physio).post(
            reverse("consent_withdraw", args=[consent.public_id]), {"reason": "Changed their mind."}
        )
    assert response.status_code == 302


def lapse(world: World) -> None:
    """Consent withdrawn behind the referral's back (a raw update, as a data fix or a race would): the
    referral stays open, and every surface must still hide what consent no longer covers."""
    Consent.objects.filter(patient=world.plan.patient, gym=world.gym).update(withdrawn_at=timezone.now())


# --- the surfaces, each as the text a viewer gets (None: the surface does not show this handoff) --------


def _get(client: Client, url: str) -> str | None:
    response = client.get(url)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def render_page(client: Client, user: User, handoff: TrainerHandoff) -> str | None:
    return _get(client, reverse("handoff_detail", args=[handoff.public_id]))


def render_handout(client: Client, user: User, handoff: TrainerHandoff) -> str | None:
    return _get(client, reverse("handoff_handout", args=[handoff.public_id]))


def render_inbox(client: Client, user: User, handoff: TrainerHandoff) -> str | None:
    body = _get(client, reverse("home")) or ""
    link = reverse("handoff_detail", args=[handoff.public_id])
    rows = [row for row in re.findall(r'<tr data-testid="inbox-row">.*?</tr>', body, re.S) if link in row]
    return rows[0] if rows else None


def render_api_detail(client: Client, user: User, handoff: TrainerHandoff) -> str | None:
    response = client.get(f"/api/v1/handoffs/{handoff.public_id}/")
    return None if response.status_code == 404 else json.dumps(response.json())


def render_api_list(client: Client, user: User, handoff: TrainerHandoff) -> str | None:
    rows = client.get("/api/v1/handoffs/").json()["results"]
    mine = [row for row in rows if row["id"] == str(handoff.public_id)]
    return json.dumps(mine[0]) if mine else None


def render_notifications(client: Client, user: User, handoff: TrainerHandoff) -> str | None:
    titles = Notification.objects.filter(recipient=user, event__handoff=handoff).values_list(
        "title", flat=True
    )
    listed = json.dumps(client.get("/api/v1/notifications/").json()["results"])
    return "\n".join(titles) + "\n" + listed if titles else None


def render_emails(client: Client, user: User, handoff: TrainerHandoff) -> str | None:
    texts = [
        f"{m.subject}\n{m.body}\n" + "".join(str(c) for c, _ in getattr(m, "alternatives", []))
        for m in mail.outbox
        if user.email in m.to
    ]
    return "\n".join(texts) if texts else None


RENDERERS: dict[Surface, Callable[[Client, User, TrainerHandoff], str | None]] = {
    Surface.PAGE: render_page,
    Surface.HANDOUT: render_handout,
    Surface.INBOX: render_inbox,
    Surface.API_DETAIL: render_api_detail,
    Surface.API_LIST: render_api_list,
    Surface.NOTIFICATION: render_notifications,
    Surface.EMAIL: render_emails,
}


# --- one test per surface: consent withdrawn, what is shown ---------------------------------------------


def test_after_withdrawal_the_handoff_page_names_the_clinic_but_not_the_physiotherapist_or_patient(
    client: Client, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    handoff = send(world, django_capture_on_commit_callbacks)
    before = render_page(login(client, world.trainer), world.trainer, handoff) or ""
    assert PHYSIO in before and PATIENT in before and CLINIC in before
    withdraw_on_the_page(client, world, django_capture_on_commit_callbacks)
    after = render_page(login(client, world.trainer), world.trainer, handoff) or ""
    assert f"From {CLINIC} to" in after and "no longer shared" in after
    for hidden in (PHYSIO, "pat@lakeside.test", PATIENT, DIAGNOSIS, RED_FLAG):
        assert hidden not in after, hidden


def test_after_withdrawal_the_timeline_names_the_clinic_instead_of_its_people(
    client: Client, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    handoff = send(world, django_capture_on_commit_callbacks)
    handoffs_services.handoff_accept(handoff=handoff, actor=world.trainer)
    withdraw_on_the_page(client, world, django_capture_on_commit_callbacks)
    body = login(client, world.trainer).get(reverse("handoff_detail", args=[handoff.public_id])).content
    events = re.findall(r'<li data-testid="event">(.*?)</li>', body.decode(), re.S)
    assert len(events) == 4  # created, sent, accepted, cancelled
    actors = [re.sub(r"\s+", " ", e).split(" · ", 1)[1].split(":", 1)[0] for e in events]
    assert actors == [CLINIC, CLINIC, world.trainer.full_name, CLINIC]
    # the clinic's own page still names its people
    physio_body = login(client, world.physio).get(reverse("handoff_detail", args=[handoff.public_id]))
    assert physio_body.content.decode().count(f"· {PHYSIO}:") == 3


def test_after_withdrawal_there_is_no_handout(
    client: Client, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    handoff = send(world, django_capture_on_commit_callbacks)
    handout = render_handout(login(client, world.trainer), world.trainer, handoff) or ""
    assert PATIENT in handout and PHYSIO in handout and RED_FLAG in handout and DIAGNOSIS in handout
    withdraw_on_the_page(client, world, django_capture_on_commit_callbacks)
    assert render_handout(login(client, world.trainer), world.trainer, handoff) is None
    assert render_handout(login(client, world.physio), world.physio, handoff) is not None


def test_when_consent_lapses_the_inbox_names_the_clinic_and_a_neutral_label(
    client: Client, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    handoff = send(world, django_capture_on_commit_callbacks)
    row = render_inbox(login(client, world.trainer), world.trainer, handoff) or ""
    assert PATIENT in row and f"{CLINIC} · {PHYSIO}" in row
    lapse(world)
    row = render_inbox(client, world.trainer, handoff) or ""
    assert "Client (consent withdrawn)" in row and CLINIC in row
    text = re.sub(r"<[^>]+>", " ", row)  # what the row says, not its link
    assert PATIENT not in text and PHYSIO not in text and str(handoff.public_id)[:8] not in text


def test_after_withdrawal_the_api_detail_and_list_keep_only_the_clinic(
    client: Client, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    handoff = send(world, django_capture_on_commit_callbacks)
    withdraw_on_the_page(client, world, django_capture_on_commit_callbacks)
    login(client, world.trainer)
    detail = client.get(f"/api/v1/handoffs/{handoff.public_id}/").json()
    row = json.loads(render_api_list(client, world.trainer, handoff) or "{}")
    for shown in (detail, row):
        assert shown["clinic"] == CLINIC
        assert shown["physiotherapist"] == "" and shown["patient_name"] == ""
    assert detail["guidelines"] is None


def test_after_withdrawal_the_api_timeline_names_the_clinic_instead_of_its_people(
    client: Client, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    handoff = send(world, django_capture_on_commit_callbacks)
    login(client, world.trainer)
    before = client.get(f"/api/v1/handoffs/{handoff.public_id}/events/").json()["results"]
    assert before[0]["actor"] == {"id": str(world.physio.public_id), "full_name": PHYSIO}
    withdraw_on_the_page(client, world, django_capture_on_commit_callbacks)
    login(client, world.trainer)
    response = client.get(f"/api/v1/handoffs/{handoff.public_id}/events/")
    assert response.status_code == 200
    actors = [event["actor"] for event in response.json()["results"]]
    assert actors and all(actor == {"id": None, "full_name": CLINIC} for actor in actors), actors
    assert PHYSIO not in response.content.decode()
    # the clinic itself still sees who did what
    login(client, world.physio)
    own = client.get(f"/api/v1/handoffs/{handoff.public_id}/events/").json()["results"]
    assert all(event["actor"]["full_name"] == PHYSIO for event in own)


def test_after_withdrawal_the_trainer_is_told_naming_only_the_clinic(
    client: Client, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    handoff = send(world, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    withdraw_on_the_page(client, world, django_capture_on_commit_callbacks)
    note = Notification.objects.get(recipient=world.trainer, event__to_status=HandoffStatus.CANCELLED)
    assert note.title == f"{CLINIC} cancelled a referral"
    emails = render_emails(client, world.trainer, handoff) or ""
    assert f"{CLINIC} cancelled a referral" in emails
    for hidden in (PHYSIO, PATIENT, DIAGNOSIS, RED_FLAG):
        assert hidden not in emails and hidden not in note.title, hidden


# --- every surface against the one policy ---------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    state: str  # consented, lapsed (consent gone, referral open), withdrawn (on the page: cancelled)
    scope: str
    viewer: str  # trainer or physio


CASES = [
    Case(state, scope, viewer)
    for state in ("consented", "lapsed", "withdrawn")
    for scope in (Consent.Scope.GUIDELINES, Consent.Scope.WITH_DIAGNOSIS)
    for viewer in ("trainer", "physio")
]


def test_every_surface_of_the_policy_has_a_renderer_here() -> None:
    assert set(RENDERERS) == set(Surface), set(Surface) ^ set(RENDERERS)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.viewer}-{c.state}-{c.scope}")
def test_every_surface_shows_exactly_what_the_policy_allows(
    client: Client, world: World, django_capture_on_commit_callbacks: Any, case: Case
) -> None:
    handoff = send(world, django_capture_on_commit_callbacks, scope=case.scope)
    if case.state == "withdrawn":
        withdraw_on_the_page(client, world, django_capture_on_commit_callbacks)
    elif case.state == "lapsed":
        lapse(world)
    viewer = world.trainer if case.viewer == "trainer" else world.physio
    login(client, viewer)
    handoff = TrainerHandoff.objects.select_related("consent", "plan__patient").get(pk=handoff.pk)
    referrals_access.forget_roles(viewer)
    rendered = 0
    for surface in Surface:
        shown = handoffs_policies.handoff_shown(viewer, handoff, surface)
        text = RENDERERS[surface](client, viewer, handoff)
        if surface == Surface.HANDOUT:
            assert (text is None) == (not shown), (surface, shown)
        if text is None:
            continue  # this surface does not list this handoff for this viewer (an inbox of open ones)
        rendered += 1
        for part, value in VALUES.items():
            assert (value in text) == (part in shown), (surface, part, sorted(shown))
    assert rendered >= 4
