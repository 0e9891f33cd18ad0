"""An accepted referral whose guidelines carry a pain rule, two effort caps (RPE, heart rate) and a red
flag, and a helper that logs a typical session on it."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User
from referrals.care.models import Precaution
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import TrainerHandoff
from referrals.handoffs.snapshot import guidelines_read
from referrals.progress import services as progress_services
from referrals.progress.models import SessionLog
from tests import factories as f
from tests.conftest import World


@pytest.fixture
def accepted(world: World, django_capture_on_commit_callbacks: Any) -> TrainerHandoff:
    plan = world.plan
    f.PrecautionFactory(
        plan=plan,
        kind=Precaution.Kind.PAIN_RULE,
        body_region="",
        limit_value=5,
        limit_unit=Precaution.Unit.PAIN,
        detail="Stop if pain goes above 5/10.",
    )
    f.PrecautionFactory(
        plan=plan,
        kind=Precaution.Kind.EFFORT_CAP,
        body_region="",
        limit_value=7,
        limit_unit=Precaution.Unit.RPE,
        detail="Keep the effort at RPE 7 or below.",
    )
    f.PrecautionFactory(
        plan=plan,
        kind=Precaution.Kind.EFFORT_CAP,
        body_region="",
        limit_value=150,
        limit_unit=Precaution.Unit.BPM,
        detail="Heart rate under 150 bpm.",
    )
    with django_capture_on_commit_callbacks(execute=True):
        draft = handoffs_sending.handoff_create(
            plan=plan, trainer=world.trainer, gym=world.gym, actor=world.physio
        )
        handoffs_sending.handoff_send(handoff=draft, actor=world.physio)
        handoffs_services.handoff_accept(handoff=draft, actor=world.trainer)
    return TrainerHandoff.objects.get(pk=draft.pk)


def guidelines(handoff: TrainerHandoff) -> dict[str, Any]:
    read = guidelines_read(handoff.snapshot, handoff_public_id=handoff.public_id)
    assert read is not None
    return read


def typical_rows(handoff: TrainerHandoff) -> list[dict[str, Any]]:
    """Each prescribed exercise done as prescribed."""
    return [
        {
            "prescribed_id": item["id"],
            "done": True,
            "sets": item["sets"],
            "reps": item["reps"],
            "hold_seconds": item["hold_seconds"],
            "duration_minutes": item["duration_minutes"],
        }
        for item in guidelines(handoff)["exercises"]
    ]


def log(handoff: TrainerHandoff, actor: User, **changes: Any) -> SessionLog:
    values: dict[str, Any] = {
        "session_date": timezone.localdate(),
        "attendance": SessionLog.Attendance.ATTENDED,
        "exercises": typical_rows(handoff),
        "rpe": 5,
        "pain_before": 2,
        "pain_after": 2,
        "mvpa_minutes": 30,
    }
    values.update(changes)
    return progress_services.session_log(handoff=handoff, actor=actor, **values)


def yesterday() -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=1)
