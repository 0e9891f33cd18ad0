"""Bad input comes back escaped: for every free-text field, a script tag, the five HTML special characters
and a long unicode string are stored, then every page that shows the field, the printable handout and the
HTML emails are rendered. A script never appears raw, its escaped form does (so the field was really
rendered), and unicode comes back intact.

Plain-text email bodies carry the text as typed: that is correct for text/plain (nothing there is HTML)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.services import api_token_create
from referrals.care import services as care_services
from referrals.care.models import Consent, Patient, TreatmentPlan
from referrals.concerns import services as concerns_services
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import TrainerHandoff
from referrals.notify.models import Notification
from tests.conftest import World
from tests.progress.factories_reports import submit_final_report

SCRIPT = "<script>alert(1)</script>"
SPECIALS = "\"'&<>"
ESCAPED = {SCRIPT: "&lt;script&gt;alert(1)&lt;/script&gt;", SPECIALS: "&quot;&#x27;&amp;&lt;&gt;"}
UNICODE_UNIT = "Zoë Łukasz 患者 مريض ✓ 🏋️ — "


def long_unicode(length: int) -> str:
    return (UNICODE_UNIT * (length // len(UNICODE_UNIT) + 1))[:length].strip()


@dataclass
class Ctx:
    world: World
    capture: Any
    handoff: TrainerHandoff | None = None

    @property
    def plan(self) -> TreatmentPlan:
        return self.world.plan

    @property
    def patient(self) -> Patient:
        return self.world.plan.patient

    def send(self) -> TrainerHandoff:
        with self.capture(execute=True):
            self.handoff = handoffs_sending.plan_discharge(
                plan=self.plan, trainer=self.world.trainer, gym=self.world.gym, actor=self.world.physio
            )
        return self.handoff

    def trainer_moves(self, *moves: str, last_reason: str = "", last_arg: str = "reason") -> None:
        handoff = self.handoff or self.send()
        with self.capture(execute=True):
            for number, move in enumerate(moves):
                kwargs = {last_arg: last_reason} if number == len(moves) - 1 and last_reason else {}
                if move == "complete":  # completing needs the final progress report first
                    submit_final_report(handoff, self.world.trainer)
                handoff = getattr(handoffs_services, f"handoff_{move}")(
                    handoff=handoff, actor=self.world.trainer, **kwargs
                )
        self.handoff = handoff


def handoff_page(ctx: Ctx) -> str:
    assert ctx.handoff is not None
    return reverse("handoff_detail", args=[ctx.handoff.public_id])


def handout(ctx: Ctx) -> str:
    assert ctx.handoff is not None
    return reverse("handoff_handout", args=[ctx.handoff.public_id])


def patient_page(ctx: Ctx) -> str:
    return reverse("patient_detail", args=[ctx.patient.public_id])


def plan_page(ctx: Ctx) -> str:
    return reverse("plan_detail", args=[ctx.plan.public_id])


def named(name: str) -> Callable[[Ctx], str]:
    return lambda ctx: reverse(name)


View = tuple[str, Callable[[Ctx], str]]  # (persona: physio | trainer, url)


@dataclass(frozen=True)
class Field:
    name: str
    max_length: int
    store: Callable[[Ctx, str], None]
    views: tuple[View, ...]  # the first shows the whole value (the unicode check); all show it escaped
    emails_to: str = ""  # persona whose HTML emails show the value


def _snapshot_field(setter: Callable[[Ctx, str], None]) -> Callable[[Ctx, str], None]:
    """Store on the plan, then send: the trainer's snapshot is frozen with the value in it."""

    def store(ctx: Ctx, value: str) -> None:
        setter(ctx, value)
        ctx.send()

    return store


def _set(obj_of: Callable[[Ctx], Any], attr: str) -> Callable[[Ctx, str], None]:
    def setter(ctx: Ctx, value: str) -> None:
        obj = obj_of(ctx)
        setattr(obj, attr, value)
        obj.save()

    return setter


TRAINER_SNAPSHOT_VIEWS: tuple[View, ...] = (("trainer", handoff_page), ("trainer", handout))


def _concern(ctx: Ctx, value: str) -> None:
    handoff = ctx.send()
    with ctx.capture(execute=True):
        concerns_services.handoff_raise_concern(handoff=handoff, actor=ctx.world.trainer, text=value)


def _cancel(ctx: Ctx, value: str) -> None:
    handoff = ctx.send()
    with ctx.capture(execute=True):
        ctx.handoff = handoffs_services.handoff_cancel(handoff=handoff, actor=ctx.world.physio, reason=value)


def _withdraw(ctx: Ctx, value: str) -> None:
    consent = Consent.objects.get(patient=ctx.patient, gym=ctx.world.gym)
    care_services.consent_withdraw(consent=consent, actor=ctx.world.physio, reason=value)


def _token(ctx: Ctx, value: str) -> None:
    api_token_create(user=ctx.world.physio, name=value)


def _enter_in_error(ctx: Ctx, value: str) -> None:
    handoff = ctx.send()
    with ctx.capture(execute=True):
        ctx.handoff = handoffs_services.handoff_enter_in_error(
            handoff=handoff, actor=ctx.world.physio, reason=value
        )


def _gym_name(ctx: Ctx, value: str) -> None:
    _set(lambda c: c.world.gym, "name")(ctx, value)
    ctx.trainer_moves("accept")


def _trainer_name(ctx: Ctx, value: str) -> None:
    _set(lambda c: c.world.trainer, "full_name")(ctx, value)
    ctx.trainer_moves("accept")


def _clinic_name(ctx: Ctx, value: str) -> None:
    _set(lambda c: c.patient.clinic, "name")(ctx, value)
    ctx.send()


FIELDS: tuple[Field, ...] = (
    Field(
        "patient full name",
        150,
        _snapshot_field(_set(lambda c: c.patient, "full_name")),
        (
            ("physio", patient_page),
            ("physio", named("patient_list")),
            ("physio", plan_page),
            ("physio", handoff_page),
            ("physio", named("home")),
            *TRAINER_SNAPSHOT_VIEWS,
        ),
    ),
    Field(
        "patient phone", 40, _snapshot_field(_set(lambda c: c.patient, "phone")), (("physio", patient_page),)
    ),
    Field(
        "plan diagnosis",
        1000,
        _snapshot_field(_set(lambda c: c.plan, "diagnosis")),
        (("physio", plan_page), ("physio", patient_page), *TRAINER_SNAPSHOT_VIEWS),
    ),
    Field(
        "plan goals",
        1000,
        _snapshot_field(_set(lambda c: c.plan, "goals")),
        (("physio", plan_page), *TRAINER_SNAPSHOT_VIEWS),
    ),
    Field(
        "exercise notes",
        1000,
        _snapshot_field(_set(lambda c: c.plan.exercises.first(), "notes")),
        (("physio", plan_page), *TRAINER_SNAPSHOT_VIEWS),
    ),
    Field(
        "exercise progression note",
        1000,
        _snapshot_field(_set(lambda c: c.plan.exercises.first(), "progression_note")),
        (("trainer", handoff_page),),
    ),
    Field(
        "precaution detail",
        1000,
        _snapshot_field(_set(lambda c: c.plan.precautions.first(), "detail")),
        (("physio", plan_page), *TRAINER_SNAPSHOT_VIEWS),
    ),
    Field(
        "red flag description",
        500,
        _snapshot_field(_set(lambda c: c.plan.red_flags.first(), "description")),
        (("physio", plan_page), *TRAINER_SNAPSHOT_VIEWS),
    ),
    Field(
        "decline reason",
        1000,
        lambda ctx, value: ctx.trainer_moves("reject", last_reason=value),
        (("physio", handoff_page), ("trainer", handoff_page)),
    ),
    Field(
        "hold reason",
        1000,
        lambda ctx, value: ctx.trainer_moves("accept", "start", "hold", last_reason=value),
        (("physio", handoff_page), ("trainer", handoff_page)),
    ),
    Field(
        "failure reason",
        1000,
        lambda ctx, value: ctx.trainer_moves("accept", "start", "fail", last_reason=value),
        (("physio", handoff_page),),
    ),
    Field(
        "completion summary",
        1000,
        lambda ctx, value: ctx.trainer_moves(
            "accept", "start", "complete", last_reason=value, last_arg="summary"
        ),
        (("physio", handoff_page), ("trainer", handoff_page)),
    ),
    Field(
        "exercise name (library)",
        120,
        _snapshot_field(_set(lambda c: c.plan.exercises.all()[0].exercise, "name")),
        (("physio", plan_page), *TRAINER_SNAPSHOT_VIEWS),
    ),
    Field(
        "entered-in-error reason",
        1000,
        _enter_in_error,
        (("trainer", handoff_page), ("physio", handoff_page)),
    ),
    Field("cancellation reason", 1000, _cancel, (("trainer", handoff_page), ("physio", handoff_page))),
    Field("concern text", 1000, _concern, (("physio", handoff_page), ("trainer", handoff_page))),
    Field("consent withdrawal reason", 500, _withdraw, (("physio", patient_page),)),
    Field("API token name", 100, _token, (("physio", named("profile")),)),
    Field(
        "trainer full name",
        150,
        _trainer_name,
        (("physio", handoff_page), ("physio", named("home")), ("trainer", named("profile"))),
        emails_to="physio",
    ),
    Field(
        "gym name",
        200,
        _gym_name,
        (("physio", handoff_page), ("trainer", named("profile")), ("physio", plan_page)),
        emails_to="physio",
    ),
    Field(
        "clinic name",
        200,
        _clinic_name,
        (("trainer", handoff_page), ("trainer", named("home")), ("physio", patient_page)),
        emails_to="trainer",
    ),
)

CASES = [
    pytest.param(fld, value, id=f"{fld.name}-{kind}")
    for fld in FIELDS
    for kind, value in (("script", SCRIPT), ("specials", SPECIALS), ("unicode", None))
]


@pytest.fixture
def ctx(world: World, django_capture_on_commit_callbacks: Any) -> Ctx:
    Consent.objects.filter(patient=world.plan.patient, gym=world.gym).update(
        scope=Consent.Scope.WITH_DIAGNOSIS
    )
    return Ctx(world, django_capture_on_commit_callbacks)


@pytest.mark.parametrize(("fld", "value"), CASES)
def test_free_text_comes_back_escaped(client: Client, ctx: Ctx, fld: Field, value: str | None) -> None:
    text = value if value is not None else long_unicode(fld.max_length)
    mail.outbox.clear()
    fld.store(ctx, text)
    users: dict[str, User] = {"physio": ctx.world.physio, "trainer": ctx.world.trainer}
    for number, (persona, url_of) in enumerate(fld.views):
        url = url_of(ctx)
        client.force_login(users[persona])
        response = client.get(url)
        assert response.status_code == 200, (persona, url)
        html = response.content.decode()
        where = f"{persona} {url}"
        assert SCRIPT not in html, where
        if value is None:
            if number == 0:
                assert text in html, f"{where}: the unicode text is not shown intact"
        else:
            assert ESCAPED[value] in html, f"{where}: the value is not shown (escaped)"
            assert value not in html, f"{where}: the value is shown raw"
    if fld.emails_to:
        recipient = users[fld.emails_to]
        bodies = [
            str(content)
            for message in mail.outbox
            if recipient.email in message.to
            for content, _ in getattr(message, "alternatives", [])
        ]
        assert bodies, f"no HTML email to the {fld.emails_to}"
        joined = "\n".join(bodies)
        assert SCRIPT not in joined
        # Titles are cut to 200 characters (test_long_names_make_a_shorter_title_not_a_failed_send).
        assert (text[:50] if value is None else ESCAPED[value]) in joined


def test_long_names_make_a_shorter_title_not_a_failed_send(ctx: Ctx) -> None:
    """A 200-character clinic name and a 150-character trainer at a 200-character gym once overflowed the
    200-character notification title and failed the send with a database error."""
    clinic = ctx.patient.clinic
    clinic.name = long_unicode(200)
    clinic.save()
    ctx.world.gym.name = "G" * 200
    ctx.world.gym.save()
    ctx.world.trainer.full_name = "T" * 150
    ctx.world.trainer.save()
    ctx.trainer_moves("accept")
    assert ctx.handoff is not None and ctx.handoff.status == "accepted"
    titles = list(Notification.objects.filter(event__handoff=ctx.handoff).values_list("title", flat=True))
    assert len(titles) == 2 and all(len(title) == 200 and title.endswith("…") for title in titles)
    assert {m.subject for m in mail.outbox} == {f"[Handoff] {title}" for title in titles}
