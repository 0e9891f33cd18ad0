"""schemathesis against the live schema served at /api/v1/schema/, as an authenticated PT and trainer.

The app is driven in-process through its WSGI handler (the whole stack: middleware, URL routing,
authentication, DRF, the services and PostgreSQL), inside the test's own transaction. A live_server
would need a transactional test whose closing flush wipes the exercise library that a data migration
loaded, out from under every later transactional test. Bounded and deterministic: derandomized,
a few examples per operation and persona.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import User
from accounts.services import api_token_create
from referrals import services
from referrals.models import Notification, TrainerHandoff
from tests import factories as f
from tests.api.conftest import API

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 15


# Loaded from the running app at collection time (the schema view touches no database).
schema = schemathesis.openapi.from_wsgi(f"{API}/schema/", get_wsgi_application())


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """A WSGI request closes the database connection when it starts and ends (close_old_connections),
    which would drop the test's transaction; Django's own test client detaches it the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


class Scene:
    """Real objects for the path ids, so generated requests reach the services, not only the 404s."""

    def __init__(self, user: User, handoffs: list[TrainerHandoff], world: Any) -> None:
        self.user = user
        _, raw = api_token_create(user=user, name="schemathesis")
        self.headers = {"Authorization": f"Bearer {raw}"}
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
    accepted = services.plan_discharge(plan=plan, trainer=world.trainer, gym=world.gym, actor=world.physio)
    services.handoff_accept(handoff=accepted, actor=world.trainer)
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


def exercise(case: Any, scene: Scene) -> None:
    if "id" in (case.path_parameters or {}):
        real = scene.real_id(case.operation.path)
        if real is not None and next(scene._turn) % 4:  # mostly real objects, sometimes a random id
            case.path_parameters["id"] = real
    case.call_and_validate(headers=scene.headers, checks=CHECKS)


@schema.parametrize()
@BOUNDED
def test_the_api_keeps_its_schema_for_a_physiotherapist(case: Any, physio_scene: Scene) -> None:
    exercise(case, physio_scene)


@schema.parametrize()
@BOUNDED
def test_the_api_keeps_its_schema_for_a_trainer(case: Any, trainer_scene: Scene) -> None:
    exercise(case, trainer_scene)
