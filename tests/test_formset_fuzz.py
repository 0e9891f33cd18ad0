"""A fuzz test of every page form's management data (issue 13, "Blind spots").

The formset views are found, not listed by hand: every page URL of the URL conf is requested as a
physiotherapist and a trainer, and each page whose HTML carries a formset's management form
(`<prefix>-TOTAL_FORMS`) is a formset view. `FUZZED` must name exactly those, so a new formset view fails
`test_every_formset_view_is_fuzzed` by name until it gets a case here. Each is then posted hostile
management data (hypothesis): never a 500, a bounded time and size, nothing stored."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import User
from referrals.care.models import Consent, Patient, PlanExercise, Precaution, RedFlag, TreatmentPlan
from referrals.concerns.models import Concern
from referrals.handoffs.models import TrainerHandoff
from referrals.notify.models import Notification
from referrals.progress.models import ProgressReport, SessionExercise, SessionLog
from tests.conftest import World, login

pytestmark = pytest.mark.django_db

PAGE_MODULES = ("referrals.web.", "accounts.views")  # the HTML adapters (the admin and API are apart)
MAX_SECONDS = 5.0
MAX_BYTES = 2_000_000  # a full plan (60 + 30 + 30 rows, each exercise row a select of the library) fits

# The formset views, with the formsets (prefixes) their page carries and the object their URL takes.
FUZZED: dict[str, tuple[str, ...]] = {
    "plan_create": ("exercises", "precautions", "red_flags"),
    "plan_edit": ("exercises", "precautions", "red_flags"),
    "session_create": ("ex",),  # the trainer's session form: one row per exercise
}
# Who posts to each (the others: the physiotherapist).
POSTED_BY_TRAINER = frozenset({"session_create"})


def _patterns(resolver: URLResolver) -> Iterator[URLPattern]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry)
        else:
            yield entry


def page_patterns() -> list[URLPattern]:
    """Every URL pattern served by a page view, from the URL conf."""
    found = []
    for pattern in _patterns(get_resolver()):
        view = pattern.callback
        module = getattr(view, "__module__", "")
        if module.startswith(PAGE_MODULES) and pattern.name:
            found.append(pattern)
    return found


def _objects(world: World, handoff: TrainerHandoff) -> dict[str, Any]:
    return {
        "patients": world.plan.patient,
        "plans": world.plan,
        "handoffs": handoff,
        "consents": Consent.objects.filter(patient=world.plan.patient).first(),
        "notifications": Notification.objects.filter(recipient=world.trainer).first(),
        "tokens": None,  # api_token_revoke: a POST-only view, and no token in this world
        # the world's referral is accepted, with no session log nor report yet
        "sessions": SessionLog.objects.filter(handoff=handoff).first(),
        "reports": ProgressReport.objects.filter(handoff=handoff).first(),
    }


def url_for(pattern: URLPattern, world: World, handoff: TrainerHandoff) -> str | None:
    """The pattern's URL for an object of the world, by the route's first segment (patients/<id>/...: the
    patient); None when there is no such object."""
    params = set(pattern.pattern.regex.groupindex)
    if not params:
        return reverse(str(pattern.name))
    assert params <= {"public_id", "action", "concern_id"}, (
        f"{pattern.name}: give this URL's parameters a sample here"
    )
    kind = str(pattern.pattern).split("/")[0]
    objects = _objects(world, handoff)
    assert kind in objects, f"{pattern.name}: no object of the world for URLs starting with '{kind}/'"
    obj = objects[kind]
    if obj is None:
        return None
    kwargs: dict[str, Any] = {"public_id": obj.public_id}
    if "action" in params:
        kwargs["action"] = "accept"
    if "concern_id" in params:  # a concern of the handoff (POST-only views: acknowledge, resolve)
        concern = Concern.objects.filter(handoff=handoff).first()
        if concern is None:
            return None
        kwargs["concern_id"] = concern.public_id
    return reverse(str(pattern.name), kwargs=kwargs)


def discovered_formset_views(
    client: Client, world: World, handoff: TrainerHandoff
) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for user in (world.physio, world.trainer):
        login(client, user)
        for pattern in page_patterns():
            path = url_for(pattern, world, handoff)
            if path is None:
                continue
            response = client.get(path)
            if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
                continue
            prefixes = tuple(re.findall(r'name="([\w-]+)-TOTAL_FORMS"', response.content.decode()))
            if prefixes:
                found[str(pattern.name)] = prefixes
    return found


@pytest.fixture
def handoff(world: World, django_capture_on_commit_callbacks: Any) -> TrainerHandoff:
    """The world's plan sent and accepted: the trainer's session form is open on it."""
    from referrals.handoffs import sending as handoffs_sending
    from referrals.handoffs import services as handoffs_services

    with django_capture_on_commit_callbacks(execute=True):
        sent = handoffs_sending.plan_discharge(
            plan=world.plan, trainer=world.trainer, gym=world.gym, actor=world.physio
        )
        return handoffs_services.handoff_accept(handoff=sent, actor=world.trainer)


def test_every_formset_view_is_fuzzed(client: Client, world: World, handoff: TrainerHandoff) -> None:
    names = {str(p.name) for p in page_patterns()}
    assert {"plan_create", "plan_edit", "patient_create", "handoff_detail"} <= names  # the walk works
    assert discovered_formset_views(client, world, handoff) == FUZZED


# --- hostile management data ----------------------------------------------------------------------------

ODD_NUMBERS = [
    "",
    " ",
    "abc",
    "-1",
    "-0",
    "1.5",
    "1e9",
    "0x10",
    " 3",
    "3 ",
    "²",
    "٣",
    "NaN",
    "inf",
    "\x00",
    str(10**30),
    str(2**63),
    str(2**31),
    "61",
    "31",
    "60",
    "30",
    "2000",
    "0",
    "1",
]
COUNT = st.one_of(
    st.none(),  # missing
    st.sampled_from(ODD_NUMBERS),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.integers(min_value=0, max_value=70).map(str),
    st.text(max_size=12),
)
ROW_INDEX = st.one_of(st.integers(min_value=0, max_value=3).map(str), st.sampled_from(ODD_NUMBERS))
BUTTON = st.sampled_from(
    [
        {},
        {"save": "1"},
        {"add": "exercises"},
        {"add": "precautions"},
        {"add": "red_flags"},
        {"add": "nope"},
        {"remove": "exercises-0"},
        {"remove": "precautions-0"},
        {"remove": "red_flags-²"},
        {"remove": "exercises-99999999999999999999"},
        {"remove": "exercises--1"},
        {"filter": "1"},
    ]
)
MANAGEMENT = ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS")


@st.composite
def hostile_posts(draw: Callable[..., Any], prefixes: tuple[str, ...]) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    for prefix in prefixes:
        for key in MANAGEMENT:
            values = draw(st.lists(COUNT, min_size=1, max_size=2))
            kept = [v for v in values if v is not None]
            if kept:
                data[f"{prefix}-{key}"] = kept
        for _ in range(draw(st.integers(min_value=0, max_value=3))):
            index = draw(ROW_INDEX)
            name = draw(
                st.sampled_from(
                    [
                        "exercise",
                        "sets",
                        "kind",
                        "description",
                        "id",
                        "DELETE",
                        "done",
                        "prescribed_id",
                        "load_value",
                    ]
                )
            )
            data[f"{prefix}-{index}-{name}"] = [
                draw(st.one_of(st.sampled_from(ODD_NUMBERS), st.text(max_size=8)))
            ]
    for key, value in draw(BUTTON).items():
        data[key] = [value]
    # Never the plan's own required fields: whatever the rows say, nothing can be saved, so anything
    # stored afterwards is a defect.
    return data


def _stored() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (
            Patient,
            TreatmentPlan,
            PlanExercise,
            Precaution,
            RedFlag,
            TrainerHandoff,
            SessionLog,
            SessionExercise,
            ProgressReport,
        )
    )


def _target(name: str, world: World, handoff: TrainerHandoff) -> str:
    obj: Any = (
        handoff if name == "session_create" else world.plan.patient if name == "plan_create" else world.plan
    )
    return reverse(name, args=[obj.public_id])


@pytest.mark.parametrize("name", sorted(FUZZED))
def test_hostile_management_data_is_never_a_500_and_stores_nothing(
    client: Client, world: World, handoff: TrainerHandoff, name: str
) -> None:
    poster: User = world.trainer if name in POSTED_BY_TRAINER else world.physio
    login(client, poster)
    url = _target(name, world, handoff)
    before = _stored()
    plan_before = TreatmentPlan.objects.filter(pk=world.plan.pk).values().get()
    handoff_before = TrainerHandoff.objects.filter(pk=handoff.pk).values().get()
    client.raise_request_exception = True  # an exception in the view fails the example with its trace

    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(data=hostile_posts(FUZZED[name]))
    def post(data: dict[str, list[str]]) -> None:
        started = time.perf_counter()
        response = client.post(url, data)
        elapsed = time.perf_counter() - started
        assert response.status_code in (200, 400), (response.status_code, data)
        assert elapsed < MAX_SECONDS, (elapsed, data)
        assert len(response.content) < MAX_BYTES, (len(response.content), data)
        assert _stored() == before, data

    post()
    assert TreatmentPlan.objects.filter(pk=world.plan.pk).values().get() == plan_before
    assert TrainerHandoff.objects.filter(pk=handoff.pk).values().get() == handoff_before  # not started
