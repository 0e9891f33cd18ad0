"""Races on PostgreSQL: threads, each with its own database connection, released together by a barrier.

In every case exactly one transition wins, the loser gets a clear conflict error (InvalidTransition, which
the API maps to 409), and the event log is consistent: one event per winning transition, each one starting
from the status the previous one ended in.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection

from accounts.models import Organization, User
from referrals.errors import InvalidTransition
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import HandoffEvent, HandoffStatus, TrainerHandoff
from referrals.notify.models import Notification, OutboxMessage
from tests.conftest import World, make_trainer

# PostgreSQL: threads on their own connections racing for row locks (select_for_update); SQLite locks the
# whole database file, so there is no race to prove there.
pytestmark = [pytest.mark.integration, pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]
S = HandoffStatus
ROUNDS = 3  # each race is run a few times: the winner varies, the invariants must not


@pytest.fixture(autouse=True)
def postgres(live_db: str) -> None:
    """Row locks and real concurrent connections: PostgreSQL (SQLite locks the whole database)."""


@dataclass
class Outcome:
    name: str
    value: Any = None
    error: BaseException | None = None

    @property
    def won(self) -> bool:
        return self.error is None


def race(late: dict[str, float] | None = None, **contenders: Callable[..., Any]) -> dict[str, Outcome]:
    """Run each callable in its own thread (own connection), all released at once; collect the outcomes.

    `late` holds some contenders back a little after the release, to force the interleaving the
    simultaneous start does not happen to produce on this machine."""
    barrier = threading.Barrier(len(contenders))
    outcomes = {name: Outcome(name) for name in contenders}

    def run(name: str, fn: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            if late and name in late:
                time.sleep(late[name])
            outcomes[name].value = fn()
        except BaseException as exc:
            outcomes[name].error = exc
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=item) for item in contenders.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive(), "a racer is stuck: a deadlock or a lock never released"
    for outcome in outcomes.values():
        if outcome.error is not None and not isinstance(outcome.error, InvalidTransition):
            raise outcome.error  # anything but the documented conflict is a bug
    return outcomes


def conflict(outcome: Outcome, current_status: str) -> None:
    assert isinstance(outcome.error, InvalidTransition), outcome
    assert outcome.error.code == "invalid_transition"
    assert outcome.error.current_status == current_status
    assert outcome.error.message  # a sentence for people, not a stack trace


def chain(handoff: TrainerHandoff) -> list[tuple[str, str]]:
    """The handoff's transitions in order; each must start where the previous one ended."""
    events = list(
        HandoffEvent.objects.filter(handoff=handoff, kind=HandoffEvent.Kind.TRANSITION).order_by(
            "created_at", "id"
        )
    )
    moves = [(e.from_status, e.to_status) for e in events]
    for (_, before), (after, _) in itertools.pairwise(moves):
        assert before == after, f"inconsistent event log: {moves}"
    handoff.refresh_from_db()
    assert moves[-1][1] == handoff.status, f"the log ends at {moves[-1][1]}, the row is {handoff.status}"
    return moves


def sent_handoff(world: World, plan: Any, trainer: User | None = None) -> TrainerHandoff:
    return handoffs_sending.plan_discharge(
        plan=plan, trainer=trainer or world.trainer, gym=world.gym, actor=world.physio
    )


@pytest.fixture
def plans(world: World, clinic: Organization) -> list[Any]:
    """One fresh plan per round, each with consent for the gym (the `plan` fixture's shape)."""
    from referrals.care.models import Consent
    from tests import factories as f

    result = [world.plan]
    for _ in range(ROUNDS - 1):
        patient = f.PatientFactory(clinic=clinic)
        plan = f.PlanFactory(patient=patient, physiotherapist=world.physio)
        f.PlanExerciseFactory(plan=plan, position=0)
        f.ConsentFactory(
            patient=patient, gym=world.gym, recorded_by=world.physio, scope=Consent.Scope.GUIDELINES
        )
        result.append(plan)
    return result


def test_trainer_accepting_while_the_pt_cancels(world: World, plans: list[Any]) -> None:
    orders = set()
    for i, plan in enumerate(plans):
        handoff = sent_handoff(world, plan)
        out = race(
            # round 0 is a true race; then each side in turn comes a moment late, so both orders happen
            late=[None, {"cancel": 0.3}, {"accept": 0.3}][i % 3],
            accept=lambda h=handoff: handoffs_services.handoff_accept(handoff=h, actor=world.trainer),
            cancel=lambda h=handoff: handoffs_services.handoff_cancel(
                handoff=h, actor=world.physio, reason="The patient moved away."
            ),
        )
        # cancel is legal from accepted, so the cancel always stands; the accept either came first (and
        # was then cancelled) or found the referral cancelled and got the conflict
        assert out["cancel"].won
        moves = chain(handoff)
        if out["accept"].won:
            assert moves == [
                ("", S.DRAFT),
                (S.DRAFT, S.REQUESTED),
                (S.REQUESTED, S.ACCEPTED),
                (S.ACCEPTED, S.CANCELLED),
            ]
        else:
            conflict(out["accept"], S.CANCELLED)
            assert moves == [("", S.DRAFT), (S.DRAFT, S.REQUESTED), (S.REQUESTED, S.CANCELLED)]
        assert handoff.status == S.CANCELLED and handoff.status_reason == "The patient moved away."
        # the trainer is told of the cancellation once; the PT of the acceptance once, if it happened
        cancelled = HandoffEvent.objects.get(handoff=handoff, to_status=S.CANCELLED)
        assert list(Notification.objects.filter(event=cancelled).values_list("recipient", flat=True)) == [
            world.trainer.pk
        ]
        assert OutboxMessage.objects.filter(event__handoff=handoff, event__to_status=S.ACCEPTED).count() == (
            1 if out["accept"].won else 0
        )
        orders.add(out["accept"].won)
    assert orders == {True, False}  # both interleavings were exercised


def test_two_accepts_from_two_browser_tabs(world: World, plans: list[Any]) -> None:
    for plan in plans:
        handoff = sent_handoff(world, plan)
        accept = lambda h=handoff: handoffs_services.handoff_accept(handoff=h, actor=world.trainer)  # noqa: E731
        out = race(tab1=accept, tab2=accept)
        winners = [o for o in out.values() if o.won]
        losers = [o for o in out.values() if not o.won]
        assert len(winners) == 1 and len(losers) == 1
        conflict(losers[0], S.ACCEPTED)
        assert chain(handoff) == [("", S.DRAFT), (S.DRAFT, S.REQUESTED), (S.REQUESTED, S.ACCEPTED)]
        accepted = HandoffEvent.objects.get(handoff=handoff, to_status=S.ACCEPTED)
        assert Notification.objects.filter(event=accepted).count() == 1  # the PT, told once
        assert OutboxMessage.objects.filter(event=accepted).count() == 1


def test_two_sends_of_the_same_draft(world: World, plans: list[Any]) -> None:
    for plan in plans:
        draft = handoffs_sending.handoff_create(
            plan=plan, trainer=world.trainer, gym=world.gym, actor=world.physio
        )
        send = lambda d=draft: handoffs_sending.handoff_send(handoff=d, actor=world.physio)  # noqa: E731
        out = race(click1=send, click2=send)
        winners = [o for o in out.values() if o.won]
        losers = [o for o in out.values() if not o.won]
        assert len(winners) == 1 and len(losers) == 1
        conflict(losers[0], S.REQUESTED)
        assert chain(draft) == [("", S.DRAFT), (S.DRAFT, S.REQUESTED)]
        requested = HandoffEvent.objects.get(handoff=draft, to_status=S.REQUESTED)
        assert list(OutboxMessage.objects.filter(event=requested).values_list("recipient", flat=True)) == [
            world.trainer.pk
        ]
        assert Notification.objects.filter(event=requested).count() == 1
        plan.refresh_from_db()
        assert plan.status == plan.Status.DISCHARGED
        draft.refresh_from_db()
        assert draft.snapshot and draft.sent_at is not None


def test_two_trainers_answers_racing_on_a_re_offered_plan(world: World, plans: list[Any]) -> None:
    second = make_trainer(world.gym)
    for plan in plans:
        first_offer = sent_handoff(world, plan)

        def re_offer(h: TrainerHandoff = first_offer, p: Any = plan) -> TrainerHandoff:
            handoffs_services.handoff_cancel(
                handoff=h, actor=world.physio, reason="Offered to another trainer."
            )
            return sent_handoff(world, p, trainer=second)

        # the first trainer answers the old offer while the PT takes it back and re-offers the plan
        out = race(
            first_accepts=lambda h=first_offer: handoffs_services.handoff_accept(
                handoff=h, actor=world.trainer
            ),
            re_offer=re_offer,
        )
        assert out["re_offer"].won
        second_offer = out["re_offer"].value
        if not out["first_accepts"].won:
            conflict(out["first_accepts"], S.CANCELLED)
        # then both trainers answer at once: the first from a stale tab, the second on the new offer
        out = race(
            first_again=lambda h=first_offer: handoffs_services.handoff_accept(
                handoff=h, actor=world.trainer
            ),
            second_accepts=lambda h=second_offer: handoffs_services.handoff_accept(handoff=h, actor=second),
        )
        assert out["second_accepts"].won
        conflict(out["first_again"], S.CANCELLED)
        first_moves = chain(first_offer)
        assert first_moves[-1] == (first_moves[-1][0], S.CANCELLED)
        assert chain(second_offer) == [("", S.DRAFT), (S.DRAFT, S.REQUESTED), (S.REQUESTED, S.ACCEPTED)]
        # one open referral per plan, always: the accepted one
        open_ones = TrainerHandoff.objects.filter(plan=plan, status__in=[S.DRAFT, S.REQUESTED, S.ACCEPTED])
        assert list(open_ones) == [second_offer]
