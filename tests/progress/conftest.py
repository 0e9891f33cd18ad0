"""Fixtures of the progress tests: a referral the trainer accepted."""

from __future__ import annotations

import pytest

from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import TrainerHandoff
from tests.conftest import World


@pytest.fixture
def accepted(world: World, requested: TrainerHandoff) -> TrainerHandoff:
    return handoffs_services.handoff_accept(handoff=requested, actor=world.trainer)
