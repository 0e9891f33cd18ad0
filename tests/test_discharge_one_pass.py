"""services.plan_discharge creates and sends in one pass (issue 14: the discharge POST in at most 15
queries): whatever the state, it does exactly what `handoff_create` then `handoff_send` do, the
straightforward path it replaced. Each case runs both paths on the same data, one after the other
(the first rolled back), and compares the outcome: the error, or the rows written."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Certification, Membership, Partnership, TrainerProfile, User
from referrals.care.models import Consent, PlanExercise
from referrals.errors import DomainError, SendBlocked
from referrals.handoffs import lifecycle as handoffs_lifecycle
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import HandoffEvent, TrainerHandoff
from referrals.notify.models import Notification, OutboxMessage
from tests import factories as f
from tests.conftest import World, make_trainer


class _Rollback(Exception):
    pass


def _outcome(world: World, trainer: User, run: Callable[..., TrainerHandoff]) -> Any:
    """What one path does, as comparable values; everything it wrote is rolled back."""
    result: Any = None
    try:
        with transaction.atomic():
            plan = type(world.plan).objects.get(pk=world.plan.pk)
            try:
                handoff = run(plan=plan, trainer=trainer, gym=world.gym, actor=world.physio)
            except SendBlocked as exc:
                result = ("SendBlocked", [(b.code, b.message) for b in exc.blockers])
                raise _Rollback from exc
            except DomainError as exc:
                result = (type(exc).__name__, exc.code, exc.message, getattr(exc, "current_status", None))
                raise _Rollback from exc
            except ValidationError as exc:
                result = ("ValidationError", exc.message_dict)
                raise _Rollback from exc
            handoff = TrainerHandoff.objects.get(pk=handoff.pk)
            plan.refresh_from_db()
            events = HandoffEvent.objects.filter(handoff=handoff).order_by("created_at", "id")
            result = {
                "handoff": (
                    handoff.status,
                    handoff.status_reason,
                    handoff.trainer_id,
                    handoff.gym_id,
                    handoff.clinic_id,
                    handoff.created_by_id,
                    handoff.consent_id,
                    handoff.sent_at is not None,
                    {k: v for k, v in (handoff.snapshot or {}).items() if k != "sent_at"},
                ),
                "events": [
                    (e.kind, e.actor_id, e.from_status, e.to_status, e.text, e.urgent, e.regarding_id)
                    for e in events
                ],
                "notifications": sorted(
                    (n.recipient_id, n.title, n.urgent, n.event.to_status if n.event else "", n.read_at)
                    for n in Notification.objects.filter(event__handoff=handoff).select_related("event")
                ),
                "outbox": sorted(
                    (m.recipient_id, m.channel, m.status, m.attempts, m.event.to_status if m.event else "")
                    for m in OutboxMessage.objects.filter(event__handoff=handoff).select_related("event")
                ),
                "plan": (plan.status, plan.discharged_at == handoff.sent_at, plan.discharged_at is None),
                "plan_follows_referrals": (plan.status, plan.discharged_at)
                == handoffs_lifecycle.plan_status_from_referrals(plan.pk),
            }
            raise _Rollback
    except _Rollback:
        pass
    return result


def _two_steps(*, plan: Any, trainer: User, gym: Any, actor: User) -> TrainerHandoff:
    with transaction.atomic():
        handoff = handoffs_sending.handoff_create(plan=plan, trainer=trainer, gym=gym, actor=actor)
        return handoffs_sending.handoff_send(handoff=handoff, actor=actor)


def _same(world: World, trainer: User | None = None) -> Any:
    trainer = trainer or world.trainer
    one_pass = _outcome(world, trainer, handoffs_sending.plan_discharge)
    assert one_pass == _outcome(world, trainer, _two_steps)
    return one_pass


def _not_accepting(world: World) -> None:
    TrainerProfile.objects.filter(user=world.trainer).update(accepting_new_clients=False)


def _at_capacity(world: World) -> None:
    TrainerProfile.objects.filter(user=world.trainer).update(max_active_clients=1)
    other = f.PlanFactory(patient=world.plan.patient, physiotherapist=world.physio)
    f.PlanExerciseFactory(plan=other)
    handoffs_sending.plan_discharge(plan=other, trainer=world.trainer, gym=world.gym, actor=world.physio)


def _no_consent(world: World) -> None:
    Consent.objects.filter(patient=world.plan.patient).update(
        withdrawn_at=datetime.datetime.now(datetime.UTC)
    )


def _no_exercises(world: World) -> None:
    PlanExercise.objects.filter(plan=world.plan).delete()


def _not_at_gym(world: World) -> None:
    Membership.objects.filter(user=world.trainer, organization=world.gym).delete()


def _no_partnership(world: World) -> None:
    Partnership.objects.filter(gym=world.gym).update(active=False)


def _inactive_trainer(world: World) -> None:
    User.objects.filter(pk=world.trainer.pk).update(is_active=False)
    world.trainer.refresh_from_db()


def _no_profile(world: World) -> None:
    TrainerProfile.objects.filter(user=world.trainer).delete()
    world.trainer = User.objects.get(pk=world.trainer.pk)


def _unverified(world: World) -> None:
    Certification.objects.filter(profile__user=world.trainer).update(verified=False)


def _completed_plan(world: World) -> None:
    type(world.plan).objects.filter(pk=world.plan.pk).update(
        status="completed", discharged_at=datetime.datetime.now(datetime.UTC)
    )


def _many_blockers(world: World) -> None:
    _not_accepting(world)
    _no_consent(world)
    _no_exercises(world)
    _unverified(world)


STATES: dict[str, Callable[[World], None]] = {
    "not accepting": _not_accepting,
    "at capacity": _at_capacity,
    "no consent": _no_consent,
    "no exercises": _no_exercises,
    "not at the gym": _not_at_gym,
    "no partnership": _no_partnership,
    "inactive trainer": _inactive_trainer,
    "no trainer profile": _no_profile,
    "unverified certification": _unverified,
    "completed plan": _completed_plan,
    "many blockers": _many_blockers,
}


def test_a_discharge_writes_what_create_then_send_write(world: World) -> None:
    outcome = _same(world)
    assert outcome["handoff"][0] == "requested" and len(outcome["notifications"]) == 1


@pytest.mark.parametrize("state", sorted(STATES))
def test_a_refused_discharge_is_refused_as_create_then_send_refuse_it(world: World, state: str) -> None:
    STATES[state](world)
    outcome = _same(world)
    assert not isinstance(outcome, dict), outcome


def test_a_second_discharge_while_one_is_open_is_refused_alike(world: World, other_trainer: User) -> None:
    handoffs_sending.plan_discharge(plan=world.plan, trainer=world.trainer, gym=world.gym, actor=world.physio)
    assert _same(world, other_trainer)[0] == "InvalidTransition"


def test_a_discharge_after_a_declined_one_keeps_the_first_discharge_date(
    world: World, other_trainer: User
) -> None:
    first = handoffs_sending.plan_discharge(
        plan=world.plan, trainer=world.trainer, gym=world.gym, actor=world.physio
    )
    handoffs_services.handoff_reject(handoff=first, actor=world.trainer, reason="Full.")
    outcome = _same(world, other_trainer)
    assert outcome["plan"] == ("discharged", False, False) and outcome["plan_follows_referrals"]


def test_a_discharge_by_a_trainer_who_is_also_the_physio_tells_nobody(world: World) -> None:
    both = make_trainer(world.gym)
    f.MembershipFactory(user=both, organization=world.plan.patient.clinic, role="physiotherapist")
    one_pass = _outcome(world, both, lambda **kw: handoffs_sending.plan_discharge(**{**kw, "actor": both}))
    two_steps = _outcome(world, both, lambda **kw: _two_steps(**{**kw, "actor": both}))
    assert one_pass == two_steps
