"""The access matrix, generated from the URL configuration.

Every URL pattern of the pages, the account pages and the API (`/api/v1/`) has at least one case below: who
gets which status. A new URL without a case fails `test_every_url_has_a_case`, naming it. The Django admin
(`admin:*`) is left out: it has its own permission system, and its organization scoping is tested in
test_admin_scoping.py. Static files are served by WhiteNoise outside the URL configuration.

Each case is run for the seven personas against real objects; a request that changes something (a POST that
the persona may make) runs inside a savepoint that is rolled back, so every persona meets the same world.
POST-only URLs are also asked with GET: 405 for anyone logged in, the login redirect or 401 for anonymous.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import ApiToken, User
from accounts.services import api_token_create
from referrals.care.models import Consent, TreatmentPlan
from referrals.concerns import services as concerns_services
from referrals.concerns.models import Concern
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import TrainerHandoff
from referrals.notify.models import Notification
from referrals.progress import reports as progress_reports
from referrals.progress import services as progress_services
from referrals.progress.models import ProgressReport, SessionLog
from tests import factories as f
from tests.conftest import World

PERSONAS = (
    "physio",
    "other_clinic_physio",
    "trainer",
    "other_trainer",
    "unpartnered_trainer",
    "clinic_admin",
    "anonymous",
)
EXCLUDED_NAMESPACES = ("admin",)


def url_names(patterns: list[Any] | None = None, namespace: str = "") -> Iterator[str]:
    """Every named URL pattern, namespaced (`api:handoff_detail`), walking included resolvers."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in EXCLUDED_NAMESPACES:
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from url_names(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern):
            assert entry.name, f"The URL pattern {entry.pattern} has no name: name it so it can be checked."
            yield f"{namespace}{entry.name}"


def checked_url_names() -> set[str]:
    return set(url_names())


@dataclass
class Objects:
    """The world every case is run against: a sent handoff, a second plan ready to send, and the rows
    around them (consent, the trainer's notification, the physio's API token)."""

    world: World
    handoff: TrainerHandoff
    ready_plan: TreatmentPlan
    consent: Consent
    notification: Notification
    token: ApiToken
    concern: Concern
    accepted: (
        TrainerHandoff  # another patient's referral, accepted: sessions are logged and a report written on it
    )
    session: SessionLog
    report: ProgressReport

    @property
    def patient_id(self) -> str:
        return str(self.world.plan.patient.public_id)


@dataclass(frozen=True)
class Case:
    url_name: str
    kwargs: Callable[[Objects], dict[str, Any]]
    expected: tuple[int, ...]  # in the order of PERSONAS
    method: str = "get"
    data: dict[str, Any] = field(default_factory=dict)
    query: Callable[[Objects], dict[str, str]] | None = None
    label: str = ""
    get_too: bool = False  # the URL also answers GET (a form page, a list that creates): its own case

    @property
    def id(self) -> str:
        return self.label or self.url_name

    @property
    def is_api(self) -> bool:
        return self.url_name.startswith("api:")


def none(o: Objects) -> dict[str, Any]:
    return {}


def patient(o: Objects) -> dict[str, Any]:
    return {"public_id": o.world.plan.patient.public_id}


def plan(o: Objects) -> dict[str, Any]:
    return {"public_id": o.world.plan.public_id}


def ready_plan(o: Objects) -> dict[str, Any]:
    return {"public_id": o.ready_plan.public_id}


def consent(o: Objects) -> dict[str, Any]:
    return {"public_id": o.consent.public_id}


def handoff(o: Objects) -> dict[str, Any]:
    return {"public_id": o.handoff.public_id}


def handoff_action(action: str) -> Callable[[Objects], dict[str, Any]]:
    return lambda o: {"public_id": o.handoff.public_id, "action": action}


def concern(o: Objects) -> dict[str, Any]:
    return {"public_id": o.handoff.public_id, "concern_id": o.concern.public_id}


def api_concern(o: Objects) -> dict[str, Any]:
    return {"id": str(o.handoff.public_id), "concern_id": str(o.concern.public_id)}


def accepted(o: Objects) -> dict[str, Any]:
    return {"public_id": o.accepted.public_id}


def session(o: Objects) -> dict[str, Any]:
    return {"public_id": o.session.public_id}


def report(o: Objects) -> dict[str, Any]:
    return {"public_id": o.report.public_id}


def notification(o: Objects) -> dict[str, Any]:
    return {"public_id": o.notification.public_id}


def token(o: Objects) -> dict[str, Any]:
    return {"public_id": o.token.public_id}


def api_id(attr: Callable[[Objects], Any]) -> Callable[[Objects], dict[str, Any]]:
    return lambda o: {"id": str(attr(o))}


def reset_link(o: Objects) -> dict[str, Any]:
    """A password reset link that is not valid: the page says so, to anyone."""
    return {"uidb64": "MQ", "token": "not-a-valid-token"}


def discharge_choice(o: Objects) -> dict[str, str]:
    return {"trainer": str(o.world.trainer.public_id), "gym": str(o.world.gym.public_id)}


# Persona order:     physio, other PT, trainer, other trainer, unpartnered trainer, clinic admin, anonymous
PHYSIO_ONLY_PAGE = (200, 404, 404, 404, 404, 404, 302)
OWN_LIST_PAGE = (200, 200, 200, 200, 200, 200, 302)
PHYSIO_LIST_PAGE = (200, 200, 403, 403, 403, 403, 302)
HANDOFF_PAGE = (200, 404, 200, 404, 404, 404, 302)
OWN_LIST_API = (200, 200, 200, 200, 200, 200, 401)
PHYSIO_ONLY_API = (200, 404, 404, 404, 404, 404, 401)
HANDOFF_API = (200, 404, 200, 404, 404, 404, 401)
TRAINER_ACTION_API = (403, 404, 200, 404, 404, 404, 401)
CLINIC_ACTION_API = (200, 404, 403, 404, 404, 404, 401)

CASES: tuple[Case, ...] = (
    # --- authentication pages
    Case("login", none, (302, 302, 302, 302, 302, 302, 200)),
    Case("logout", none, (302, 302, 302, 302, 302, 302, 302), method="post"),
    # --- password reset: public pages that never log anyone in (the two-factor step still follows)
    Case("password_reset", none, (200, 200, 200, 200, 200, 200, 200)),
    Case("password_reset_done", none, (200, 200, 200, 200, 200, 200, 200)),
    Case("password_reset_confirm", reset_link, (200, 200, 200, 200, 200, 200, 200)),
    Case("password_reset_complete", none, (200, 200, 200, 200, 200, 200, 200)),
    # --- operations: the health check is public on purpose (no patient data, for the load balancer)
    Case("healthz", none, (200, 200, 200, 200, 200, 200, 200)),
    # --- account
    Case("profile", none, OWN_LIST_PAGE),
    Case("two_factor_setup", none, OWN_LIST_PAGE),
    Case("two_factor_verify", none, (302, 302, 302, 302, 302, 302, 302)),
    Case("two_factor_disable", none, (302, 302, 302, 302, 302, 302, 302), method="post"),
    Case("two_factor_backup_codes", none, (302, 302, 302, 302, 302, 302, 302), method="post"),
    Case("api_token_revoke", token, (302, 404, 404, 404, 404, 404, 302), method="post"),
    # --- pages: home, patients, consent
    Case("home", none, OWN_LIST_PAGE),
    Case("patient_list", none, PHYSIO_LIST_PAGE),
    Case("patient_create", none, PHYSIO_LIST_PAGE),
    Case("patient_detail", patient, PHYSIO_ONLY_PAGE),
    Case("patient_edit", patient, PHYSIO_ONLY_PAGE),
    Case("plan_create", patient, PHYSIO_ONLY_PAGE),
    Case("consent_record", patient, (400, 404, 404, 404, 404, 404, 302), method="post"),
    Case(
        "consent_withdraw",
        consent,
        (302, 404, 404, 404, 404, 404, 302),
        method="post",
        data={"reason": "The patient asked."},
    ),
    # --- pages: plans and discharge
    Case("plan_detail", plan, PHYSIO_ONLY_PAGE),
    Case("plan_edit", plan, PHYSIO_ONLY_PAGE),
    Case("plan_discharge", ready_plan, PHYSIO_ONLY_PAGE),
    Case("plan_discharge_review", ready_plan, PHYSIO_ONLY_PAGE, query=discharge_choice),
    Case(
        "plan_discharge_send",
        ready_plan,
        (302, 404, 404, 404, 404, 404, 302),
        method="post",
        query=discharge_choice,
    ),
    # --- pages: the handoff
    Case("handoff_detail", handoff, HANDOFF_PAGE),
    Case("handoff_handout", handoff, HANDOFF_PAGE),
    Case(
        "handoff_concern",
        handoff,
        (403, 404, 302, 404, 404, 404, 302),
        method="post",
        data={"concern-text": "Sharp pain on the second set."},
    ),
    # either side may refer back (the fixture's referral is requested: a message, not a move)
    Case(
        "handoff_refer_back",
        handoff,
        (302, 404, 302, 404, 404, 404, 302),
        method="post",
        data={"refer_back-note": "Pain at rest."},
    ),
    # the clinic's one-click re-offer: the trainer is refused; no trainer posted, so the clinic gets the
    # "choose a trainer" 404 (tests/timers/test_reoffer.py posts real choices)
    Case("handoff_reoffer", handoff, (404, 404, 403, 404, 404, 404, 302), method="post"),
    # the trainer's new review date of a hold: the clinic is refused; the fixture's referral is requested,
    # not on hold, so the trainer gets a message (tests/timers/test_hold.py sets real dates)
    Case(
        "handoff_hold_review",
        handoff,
        (403, 404, 302, 404, 404, 404, 302),
        method="post",
        data={"hold_review-review_on": "2099-01-01"},
    ),
    Case("concern_acknowledge", concern, (302, 404, 403, 404, 404, 404, 302), method="post"),
    Case(
        "concern_resolve",
        concern,
        (302, 404, 403, 404, 404, 404, 302),
        method="post",
        data={"note": "Seen in clinic."},
    ),
    Case(
        "handoff_action",
        handoff_action("accept"),
        (403, 404, 302, 404, 404, 404, 302),
        method="post",
        label="handoff_action[accept]",
    ),
    Case(
        "handoff_action",
        handoff_action("cancel"),
        (302, 404, 403, 404, 404, 404, 302),
        method="post",
        data={"cancel-text": "The patient moved away."},
        label="handoff_action[cancel]",
    ),
    Case(
        "handoff_action",
        handoff_action("enter_in_error"),
        (302, 404, 403, 404, 404, 404, 302),
        method="post",
        data={"enter_in_error-text": "Sent to the wrong trainer."},
        label="handoff_action[enter_in_error]",
    ),
    Case(
        "handoff_action",
        handoff_action("no-such-action"),
        (404, 404, 404, 404, 404, 404, 302),
        method="post",
        label="handoff_action[unknown]",
    ),
    # --- pages: sessions (logged on the accepted referral)
    Case("session_list", accepted, HANDOFF_PAGE),
    Case("session_create", accepted, (403, 404, 200, 404, 404, 404, 302), label="session_create[form]"),
    Case(
        "session_create",
        accepted,
        (403, 404, 302, 404, 404, 404, 302),
        method="post",
        data={
            "session_date": "today",  # replaced by today's date (session_post_data)
            "attendance": "no_show",
            "ex-TOTAL_FORMS": "0",
            "ex-INITIAL_FORMS": "0",
        },
        label="session_create[post]",
        get_too=True,
    ),
    Case("session_detail", session, HANDOFF_PAGE),
    # --- pages: progress reports (the referral's trainer writes; the clinic's PTs read and answer)
    Case("report_new", accepted, (403, 404, 200, 404, 404, 404, 302)),
    Case("report_detail", report, HANDOFF_PAGE),
    Case("report_acknowledge", report, (302, 404, 403, 404, 404, 404, 302), method="post"),
    Case(
        "report_reply",
        report,
        (302, 404, 302, 404, 404, 404, 302),
        method="post",
        data={"text": "Thanks: keep the load where it is."},
    ),
    # --- pages: notifications
    Case("report_pdf", report, HANDOFF_PAGE),
    Case("notification_list", none, OWN_LIST_PAGE),
    Case("notification_mark_all_read", none, (302, 302, 302, 302, 302, 302, 302), method="post"),
    Case("notification_open", notification, (404, 404, 302, 404, 404, 404, 302)),
    # --- API: documentation, public on purpose (it describes the API, it holds no data)
    Case("api:schema", none, (200, 200, 200, 200, 200, 200, 200)),
    Case("api:docs", none, (200, 200, 200, 200, 200, 200, 200)),
    # --- API: patients, plans, library, directory
    Case("api:patient_list", none, OWN_LIST_API),
    Case("api:patient_detail", api_id(lambda o: o.world.plan.patient.public_id), PHYSIO_ONLY_API),
    Case("api:plan_list", none, OWN_LIST_API),
    Case("api:plan_detail", api_id(lambda o: o.world.plan.public_id), PHYSIO_ONLY_API),
    Case("api:exercise_list", none, OWN_LIST_API),
    Case("api:trainer_list", none, OWN_LIST_API),
    # --- API: consent
    Case("api:consent_list", none, OWN_LIST_API),
    Case("api:consent_detail", api_id(lambda o: o.consent.public_id), PHYSIO_ONLY_API),
    Case(
        "api:consent_withdraw",
        api_id(lambda o: o.consent.public_id),
        PHYSIO_ONLY_API,
        method="post",
        data={"reason": "The patient asked."},
    ),
    # --- API: handoffs
    Case("api:handoff_list", none, OWN_LIST_API),
    Case("api:handoff_detail", api_id(lambda o: o.handoff.public_id), HANDOFF_API),
    Case("api:handoff_events", api_id(lambda o: o.handoff.public_id), HANDOFF_API),
    Case(
        "api:handoff_send",
        api_id(lambda o: o.handoff.public_id),
        (409, 404, 403, 404, 404, 404, 401),
        method="post",
    ),
    Case("api:handoff_accept", api_id(lambda o: o.handoff.public_id), TRAINER_ACTION_API, method="post"),
    # either side may refer back; the fixture's referral is requested, not yet taken on: 409
    Case(
        "api:handoff_refer_back",
        api_id(lambda o: o.handoff.public_id),
        (409, 404, 409, 404, 404, 404, 401),
        method="post",
        data={"note": "Pain at rest."},
    ),
    # the trainer's new review date of a hold; the fixture's referral is not on hold: 409
    Case(
        "api:handoff_hold_review",
        api_id(lambda o: o.handoff.public_id),
        (403, 404, 409, 404, 404, 404, 401),
        method="post",
        data={"review_on": "2099-01-01"},
    ),
    # the clinic's one-click re-offer: nothing posted, so the clinic's answer is the 400 naming the fields
    Case(
        "api:handoff_reoffer",
        api_id(lambda o: o.handoff.public_id),
        (400, 404, 403, 404, 404, 404, 401),
        method="post",
    ),
    Case(
        "api:handoff_reject",
        api_id(lambda o: o.handoff.public_id),
        TRAINER_ACTION_API,
        method="post",
        data={"reason": "Fully booked."},
    ),
    Case(
        "api:handoff_start",
        api_id(lambda o: o.handoff.public_id),
        (403, 404, 409, 404, 404, 404, 401),
        method="post",
    ),
    Case(
        "api:handoff_hold",
        api_id(lambda o: o.handoff.public_id),
        (403, 404, 409, 404, 404, 404, 401),
        method="post",
        data={"reason": "Travelling."},
    ),
    Case(
        "api:handoff_resume",
        api_id(lambda o: o.handoff.public_id),
        (403, 404, 409, 404, 404, 404, 401),
        method="post",
    ),
    Case(
        "api:handoff_complete",
        api_id(lambda o: o.handoff.public_id),
        (403, 404, 409, 404, 404, 404, 401),
        method="post",
    ),
    Case(
        "api:handoff_fail",
        api_id(lambda o: o.handoff.public_id),
        (403, 404, 409, 404, 404, 404, 401),
        method="post",
        data={"reason": "Stopped coming."},
    ),
    Case(
        "api:handoff_cancel",
        api_id(lambda o: o.handoff.public_id),
        CLINIC_ACTION_API,
        method="post",
        data={"reason": "The patient moved away."},
    ),
    Case(
        "api:handoff_enter_in_error",
        api_id(lambda o: o.handoff.public_id),
        CLINIC_ACTION_API,
        method="post",
    ),
    Case(
        "api:handoff_concern",
        api_id(lambda o: o.handoff.public_id),
        (403, 404, 201, 404, 404, 404, 401),
        method="post",
        data={"text": "Sharp pain on the second set.", "hold": False},
    ),
    Case("api:handoff_concern_acknowledge", api_concern, CLINIC_ACTION_API, method="post"),
    Case(
        "api:handoff_concern_resolve",
        api_concern,
        CLINIC_ACTION_API,
        method="post",
        data={"note": "Seen in clinic."},
    ),
    # --- API: sessions
    Case("api:handoff_sessions", api_id(lambda o: o.accepted.public_id), HANDOFF_API),
    Case(
        "api:handoff_sessions",
        api_id(lambda o: o.accepted.public_id),
        (403, 404, 201, 404, 404, 404, 401),
        method="post",
        data={"session_date": "today", "attendance": "no_show"},
        label="api:handoff_sessions[post]",
        get_too=True,
    ),
    Case("api:session_detail", api_id(lambda o: o.session.public_id), HANDOFF_API),
    # --- API: progress reports
    Case("api:handoff_reports", api_id(lambda o: o.accepted.public_id), HANDOFF_API),
    # (who may POST a report or a reply: tests/progress/test_report_api.py, per persona)
    Case("api:report_detail", api_id(lambda o: o.report.public_id), HANDOFF_API),
    Case("api:report_acknowledge", api_id(lambda o: o.report.public_id), CLINIC_ACTION_API, method="post"),
    Case("api:report_replies", api_id(lambda o: o.report.public_id), HANDOFF_API),
    # --- API: the report's PDF
    Case("api:report_pdf", lambda o: {"id": report(o)["public_id"]}, HANDOFF_API),
    # --- API: notifications
    Case("api:notification_list", none, OWN_LIST_API),
    Case("api:notification_read_all", none, OWN_LIST_API, method="post"),
    Case(
        "api:notification_read",
        api_id(lambda o: o.notification.public_id),
        (404, 404, 200, 404, 404, 404, 401),
        method="post",
    ),
)


def test_every_url_has_a_case() -> None:
    covered = {case.url_name for case in CASES}
    missing = sorted(checked_url_names() - covered)
    assert not missing, (
        f"These URLs have no entry in the access matrix (tests/security/test_access_matrix.py CASES): "
        f"{', '.join(missing)}. Add a Case with the expected status for every persona."
    )
    stale = sorted(covered - checked_url_names())
    assert not stale, f"These cases name URLs that no longer exist: {', '.join(stale)}"


def test_every_case_names_every_persona() -> None:
    assert all(len(case.expected) == len(PERSONAS) for case in CASES)
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.fixture
def objects(
    world: World,
    requested: TrainerHandoff,
    other_clinic_physio: User,
    other_trainer: User,
    unpartnered_trainer: User,
    clinic_admin: User,
) -> Objects:
    patient = world.plan.patient
    ready = f.PlanFactory(patient=patient, physiotherapist=world.physio)
    f.PlanExerciseFactory(plan=ready)
    token, _ = api_token_create(user=world.physio, name="clinic system")
    raised = concerns_services.handoff_raise_concern(
        handoff=requested, actor=world.trainer, text="Sharp pain."
    )
    other_patient = f.PatientFactory(clinic=patient.clinic, full_name="Robin Client")
    other_plan = f.PlanFactory(patient=other_patient, physiotherapist=world.physio)
    f.PlanExerciseFactory(plan=other_plan)
    f.ConsentFactory(patient=other_patient, gym=world.gym, recorded_by=world.physio)
    taken = handoffs_sending.plan_discharge(
        plan=other_plan, trainer=world.trainer, gym=world.gym, actor=world.physio
    )
    handoffs_services.handoff_accept(handoff=taken, actor=world.trainer)
    logged = progress_services.session_log(
        handoff=taken,
        actor=world.trainer,
        session_date=timezone.localdate(),
        attendance=SessionLog.Attendance.ATTENDED,
        exercises=[],
    )
    today = timezone.localdate()
    written = progress_reports.report_submit(
        handoff=taken,
        actor=world.trainer,
        period_start=today,
        period_end=today,
        impressions="Fine.",
        goals=["met"],
    )
    return Objects(
        world=world,
        handoff=requested,
        ready_plan=ready,
        consent=Consent.objects.get(patient=patient, gym=world.gym),
        notification=Notification.objects.get(recipient=world.trainer, event__handoff=requested),
        token=token,
        concern=Concern.objects.get(event=raised),
        accepted=taken,
        session=logged,
        report=written,
    )


def _request(client: Client, case: Case, method: str, url: str) -> int:
    if method == "get":
        return client.get(url).status_code
    if case.is_api:
        return client.post(url, json.dumps(case.data), content_type="application/json").status_code
    return client.post(url, case.data).status_code


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_access_matrix(case: Case, objects: Objects, request: pytest.FixtureRequest) -> None:
    url = reverse(case.url_name, kwargs=case.kwargs(objects))
    query = case.query(objects) if case.query else {}
    if query and case.method == "get":
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    data = {**case.data, **query} if case.method == "post" else case.data
    if data.get("session_date") == "today":
        data = {**data, "session_date": timezone.localdate().isoformat()}
    case = Case(
        case.url_name, case.kwargs, case.expected, case.method, data, case.query, case.label, case.get_too
    )
    wrong: list[str] = []
    for persona, expected in zip(PERSONAS, case.expected, strict=True):
        client = Client()
        if persona != "anonymous":
            client.force_login(request.getfixturevalue(persona))
        with transaction.atomic():
            got = _request(client, case, case.method, url)
            transaction.set_rollback(True)
        if got != expected:
            wrong.append(f"{persona}: {case.method.upper()} got {got}, expected {expected}")
        if case.method == "post" and not case.get_too:
            # The same URL asked with GET: not allowed for anyone logged in, login first for anonymous.
            anonymous_get = 401 if case.is_api else 302
            expected_get = anonymous_get if persona == "anonymous" else 405
            if case.url_name == "logout":
                expected_get = 405
            with transaction.atomic():
                got = _request(client, case, "get", url)
                transaction.set_rollback(True)
            if got != expected_get:
                wrong.append(f"{persona}: GET got {got}, expected {expected_get}")
    assert not wrong, f"{case.id} ({url}):\n" + "\n".join(wrong)
