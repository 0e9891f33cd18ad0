"""schemathesis against the live schema served at /api/v1/schema/, with every check it has, as an
authenticated PT and trainer, operation by operation and then as a workflow along the schema's links.

The app is driven in-process through its WSGI handler (the whole stack: middleware, URL routing,
authentication, DRF, the services and the database), inside the test's own transaction. A live_server
would need a transactional test whose closing flush wipes the exercise library that a data migration
loaded, out from under every later transactional test. Bounded and deterministic: derandomized,
a few examples per operation and persona, a bounded number of workflow steps.
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

from accounts.models import User
from accounts.services import api_token_create
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import TrainerHandoff
from referrals.notify.models import Notification
from tests import factories as f
from tests.api.conftest import API

MAX_EXAMPLES = 5
STATEFUL_EXAMPLES = 12
STATEFUL_STEPS = 12

OPAQUE_CURSOR = "bz0x"  # base64 of "o=1"

# Every check this schemathesis has, all enabled (its default); positive_data_acceptance is narrowed
# below (BEYOND_THE_SCHEMA) with its reason, and generated cursors are ones the server hands out.
CONFIG = schemathesis.Config.from_dict({"parameters": {"query.cursor": OPAQUE_CURSOR}})

# Loaded from the running app at collection time (the schema view touches no database).
schema = schemathesis.openapi.from_wsgi(f"{API}/schema/", get_wsgi_application(), config=CONFIG)


def all_check_names() -> list[str]:
    load_all_checks()
    return sorted(CHECKS.get_all_names())


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """A WSGI request closes the database connection when it starts and ends (close_old_connections),
    which would drop the test's transaction; Django's own test client detaches it the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def bearer(user: User) -> dict[str, str]:
    _, raw = api_token_create(user=user, name="schemathesis")
    return {"Authorization": f"Bearer {raw}"}


class Scene:
    """Real objects for the path ids, so generated requests reach the services, not only the 404s."""

    def __init__(self, user: User, handoffs: list[TrainerHandoff], world: Any) -> None:
        self.user = user
        self.headers = bearer(user)
        plan = world.plan
        self.ids: dict[str, list[str]] = {
            "handoffs": [str(h.public_id) for h in handoffs],
            "patients": [str(plan.patient.public_id)],
            "plans": [str(plan.public_id)],
            "consents": [str(c.public_id) for c in plan.patient.consents.all()],
            "notifications": [
                str(n.public_id) for n in Notification.objects.filter(recipient=user).order_by("pk")
            ],
        }
        self.references = {
            "patient": str(plan.patient.public_id),
            "plan": str(plan.public_id),
            "gym": str(world.gym.public_id),
            "trainer": str(world.trainer.public_id),
            "clinic": str(plan.patient.clinic.public_id),
        }
        self._turn = itertools.count()

    def real_id(self, path: str) -> str | None:
        resource = path.removeprefix(API + "/").split("/", 1)[0]
        ids = self.ids.get(resource) or []
        return ids[next(self._turn) % len(ids)] if ids else None


def make_scene(world: Any, requested: TrainerHandoff, user: User) -> Scene:
    # A second plan with a handoff the trainer has accepted: more statuses for the actions to meet.
    patient = f.PatientFactory(clinic=world.plan.patient.clinic)
    plan = f.PlanFactory(patient=patient, physiotherapist=world.physio)
    f.PlanExerciseFactory(plan=plan)
    f.ConsentFactory(patient=patient, gym=world.gym, recorded_by=world.physio, scope="with_diagnosis")
    accepted = handoffs_sending.plan_discharge(
        plan=plan, trainer=world.trainer, gym=world.gym, actor=world.physio
    )
    handoffs_services.handoff_accept(handoff=accepted, actor=world.trainer)
    return Scene(user, [requested, accepted], world)


@pytest.fixture
def physio_scene(world: Any, requested: TrainerHandoff) -> Scene:
    return make_scene(world, requested, world.physio)


@pytest.fixture
def trainer_scene(world: Any, requested: TrainerHandoff) -> Scene:
    return make_scene(world, requested, world.trainer)


BOUNDED = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


# Input fields whose validity the schema cannot express, so a schema-valid value may rightly be a 400
# naming that field, and only that field:
# - an id of another object: it may not exist, or be outside your scope (`No such patient.`), and the
#   rows' library exercise ids;
# - a date judged against today or against other data: a date of birth after 1900 and not in the
#   future, a plan not starting before the patient's birth, a precaution not ending before the plan's
#   start (OpenAPI 3.0 has no bound for a date, let alone one relative to today or another row);
# - a precaution's fields that its kind rules out or requires (an avoided movement takes no limit
#   value, a load limit needs its unit): a rule between the fields of one row, which OpenAPI 3.0 could
#   say only with a oneOf per kind (the schema does not have one yet); likewise an exercise row takes
#   one of reps, hold seconds or duration, and a load within the range of its unit;
# - a session log's: its date (not in the future, not before the referral was accepted), the ids of the
#   referral's guidelines (a prescribed exercise, once; its red flags), an exercise row naming both a
#   prescribed and a library exercise, and what only an attended session has (exercises done, an effort,
#   a heart rate, minutes of activity);
# - a progress report's period judged against today, the acceptance and the earlier reports; its goals
#   counted against the goal lines of the referral's guidelines; at least one part of its narrative (a
#   rule between fields: `impressions` names it).
# positive_data_acceptance accepts a 400 whose `fields` are all of these, and nothing else.
BEYOND_THE_SCHEMA = re.compile(
    r"^(patient|plan|trainer|gym|clinic|exercises\.\d+\.exercise"
    r"|date_of_birth|start_date|session_date|red_flags|rpe|peak_heart_rate|mvpa_minutes"
    r"|exercises\.\d+|exercises\.\d+\.(prescribed_id|done)"
    r"|period_start|period_end|impressions|goals(\.\d+)?"
    r"|precautions\.\d+\.(valid_until|limit_value|limit_unit|body_region|weight_bearing|detail)"
    r"|exercises\.\d+\.(reps|hold_seconds|duration_minutes|load_value|load_unit))$"
)


def positive_data_acceptance_beyond_the_schema(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis' positive_data_acceptance, narrowed by BEYOND_THE_SCHEMA."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if response.status_code == 400:
            fields = set(json.loads(response.content).get("fields") or {})
            if fields and all(BEYOND_THE_SCHEMA.match(name) for name in fields):
                return None
        raise


NARROWED = {
    "excluded_checks": [positive_data_acceptance],
    "additional_checks": [positive_data_acceptance_beyond_the_schema],
}


def real_references(case: Any, ids: dict[str, str]) -> None:
    """Mostly real objects in a body's references (a random id is only a 400); only where schemathesis
    generated a valid id, so a negative case stays negative."""
    if isinstance(case.body, dict):
        for name, real in ids.items():
            if is_uuid(case.body.get(name)):
                case.body[name] = real


def real_cursor(case: Any) -> None:
    """The cursor is opaque: a schema-valid string is not one the server handed out (and a 400 is right
    for it, tests/api/test_query_contract.py). A generated schema-valid cursor is replaced by one the
    server does hand out, "o=1" (the second row on), valid for every list; a negative one is kept."""
    cursor = (case.query or {}).get("cursor")
    if isinstance(cursor, str) and cursor:
        case.query["cursor"] = OPAQUE_CURSOR


def exercise(case: Any, scene: Scene) -> None:
    if is_uuid((case.path_parameters or {}).get("id")):
        real = scene.real_id(case.operation.path)
        if real is not None and next(scene._turn) % 4:  # mostly real objects, sometimes a random id
            case.path_parameters["id"] = real
    if next(scene._turn) % 4:
        real_references(case, scene.references)
    real_cursor(case)
    case.call_and_validate(headers=scene.headers, **NARROWED)  # no `checks=`: every enabled check


@schema.parametrize()
@BOUNDED
def test_the_api_keeps_its_schema_for_a_physiotherapist(case: Any, physio_scene: Scene) -> None:
    exercise(case, physio_scene)


# A trainer's side of the API; the PT's run covers every operation.
@schema.include(path_regex=f"^{API}/(handoffs|notifications|exercises|trainers)/").parametrize()
@BOUNDED
def test_the_api_keeps_its_schema_for_a_trainer(case: Any, trainer_scene: Scene) -> None:
    exercise(case, trainer_scene)


# --- the stateful phase: workflows along the schema's links ------------------------------------------

TRAINER_ACTIONS = {"accept", "reject", "start", "hold", "resume", "complete", "fail", "concern"}


class Workflow(schema.as_state_machine()):  # type: ignore[misc]
    """A PT creates patients, plans and handoffs and acts on them, the trainer answers; each step is
    one of the links of the step before it. The trainer and gym in a body are the real ones (a random
    id is only a 400), so a handoff can be sent and answered."""

    physio: dict[str, str] = {}
    trainer: dict[str, str] = {}
    gym_id = ""
    trainer_id = ""

    def before_call(self, case: Any) -> None:
        real_references(case, {"gym": self.gym_id, "trainer": self.trainer_id})
        real_cursor(case)

    def get_call_kwargs(self, case: Any) -> dict[str, Any]:
        action = case.operation.path.rstrip("/").rsplit("/", 1)[-1]
        return {"headers": self.trainer if action in TRAINER_ACTIONS else self.physio}

    def validate_response(
        self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
    ) -> None:
        case.validate_response(
            response,
            transport_kwargs=kwargs,
            recorder=self.recorder,
            headers=kwargs.get("headers"),
            **NARROWED,
        )


def test_the_api_keeps_its_schema_along_its_links(world: Any) -> None:
    Workflow.physio = bearer(world.physio)
    Workflow.trainer = bearer(world.trainer)
    Workflow.gym_id = str(world.gym.public_id)
    Workflow.trainer_id = str(world.trainer.public_id)
    run_state_machine_as_test(
        Workflow,
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=STATEFUL_STEPS,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )


def test_every_check_of_schemathesis_is_enabled() -> None:
    config = schema.config.checks_config_for()
    names = all_check_names()
    assert len(names) >= 14, names
    assert all(config.get_by_name(name=name).enabled for name in names), names
