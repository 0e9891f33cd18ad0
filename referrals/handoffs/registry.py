"""The one registry of referral actions: what each action does, who may take it, and who hears of it.

Every table about the actions is derived from `ACTIONS`: the transition table (handoffs.lifecycle
`TRANSITIONS`), the service of each action (handoffs.services `HANDOFF_ACTIONS`), the referral page's
buttons (web.handoffs `ACTIONS`), the API's action endpoints and their URLs (api.handoffs `ACTION_APIS`,
api.urls), the notification titles (notify.wording) and who is told (handoffs.lifecycle `_recipients`).
Adding an action is one entry here, its service if it does more than move the status (a
`handoff_<name>` function in handoffs.services), and its tests (tests/test_registry.py checks that every
derived table has it).

This module imports only models and constants, so that anything may import it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from referrals.handoffs import models as handoffs_models
from referrals.handoffs.models import OPEN_STATUSES, REASON_REQUIRED_STATUSES, HandoffStatus

S = HandoffStatus


Side = Literal["clinic", "trainer"]


TextArg = Literal["reason", "summary"]


ClinicTold = Literal["always", "unless_it_acted", "never"]


@dataclass(frozen=True)
class Recipients:
    """Who is told of the move, read by lifecycle `_recipients` (which also never tells the actor).

    `trainer`: the referral's trainer, while an active trainer at its gym. `clinic`: the treating
    physiotherapist and the referral's creator while active physiotherapists of the clinic, else the
    clinic's active physiotherapists; "unless_it_acted": only when the actor is not an active
    physiotherapist of the clinic (an admin, an organization change). `silent_from`: a move from one of
    these statuses tells nobody (a draft was never seen by the trainer)."""

    trainer: bool = False
    clinic: ClinicTold = "never"
    silent_from: frozenset[str] = frozenset()


@dataclass(frozen=True)
class BusinessStatus:
    """A FHIR Task.businessStatus (the guide requires its text): a finer state than the Task's status."""

    code: str
    text: str


@dataclass(frozen=True)
class HandoffAction:
    """One referral action.

    `sources`: the statuses it may start from (narrower than the target's when two actions share one:
    start from accepted, resume from on hold). `text_arg`: the service's keyword for the text it takes
    (a reason or a summary), None when it takes none; `reason_required` says whether that text is
    required (it is exactly when the target status needs a status reason, FHIR pa-taskrm-1).
    `rechecked`: the trainer takes the patient on, so the referral's eligibility is checked again first
    (a refusal is recorded and the clinic told). `on_page`: whether the handoff page shows a button
    (sending has its own review page). `title`: the notification title, with `{clinic}` and `{trainer}`;
    `title_by_others` when the clinic did not act itself (an admin, an organization change), if it
    reads otherwise. `summary`: the API operation's summary, after the side."""

    name: str
    to: str
    side: Side
    sources: frozenset[str]
    label: str
    summary: str
    title: str
    recipients: Recipients
    text_arg: TextArg | None = None
    text_label: str = "Reason"
    reason_required: bool = False
    style: str = ""
    rechecked: bool = False
    on_page: bool = True
    title_by_others: str = ""
    business_status: BusinessStatus | None = None
    # It asks when it is to be reviewed (hold: TrainerHandoff.hold_review_on); the service takes it as
    # `review_on`, optional (the clinic's default when not given).
    asks_review_date: bool = False
    # The domain error codes its service may raise beyond those every action may (invalid_transition;
    # no_longer_eligible when rechecked): the API documents them as its 409s.
    conflicts: tuple[str, ...] = ()

    @property
    def slug(self) -> str:
        """The action in a URL of the API: enter-in-error."""
        return self.name.replace("_", "-")

    def starts_from(self, status: str) -> bool:
        return status in self.sources

    def text_kwargs(self, text: str) -> dict[str, str]:
        """The keyword its service takes the text by (`reason=`, `summary=`), none when it takes none."""
        return {self.text_arg: text} if self.text_arg is not None else {}

    def service_kwargs(self, text: str, review_on: object = None) -> dict[str, object]:
        """What its service is called with besides the referral and the actor: the text, and the review
        date when it asks for one."""
        extra: dict[str, object] = {"review_on": review_on} if self.asks_review_date else {}
        return {**self.text_kwargs(text), **extra}

    @property
    def api_conflicts(self) -> tuple[str, ...]:
        """The 409 codes of the action's API endpoint."""
        return ("invalid_transition", *(("no_longer_eligible",) if self.rechecked else ()), *self.conflicts)


TELL_CLINIC = Recipients(clinic="always")


# The client is back with the physiotherapist: set by `handoffs.refer_back.handoff_refer_back`, which is not
# an entry of ACTIONS. Either side takes it, and its moves (in progress -> on hold, or -> failed) are the
# trainer's side's statuses already reached by hold and fail: as entries they would break the two rules
# `problems` checks (one status, one side; one move, one action), so it is one service with its own policy
# (progress.policies.can_refer_back) that moves the referral on behalf, records its own event
# (HandoffEvent.Kind.REFERRED_BACK, who is told by lifecycle `_recipients`) and sets this business status.
# Any later move clears it.
REFERRED_BACK = BusinessStatus(
    code=handoffs_models.REFERRED_BACK, text="Referred back to the physiotherapist"
)
# A requested referral the trainer never answered, cancelled by the timers (timers.services).
NO_RESPONSE = BusinessStatus(code=handoffs_models.NO_RESPONSE, text="No response from the trainer")
BUSINESS_STATUSES: Mapping[str, BusinessStatus] = MappingProxyType(
    {REFERRED_BACK.code: REFERRED_BACK, NO_RESPONSE.code: NO_RESPONSE}
)


AFTER_CARE = frozenset({S.ACCEPTED, S.IN_PROGRESS, S.ON_HOLD})


# A draft the trainer never saw: withdrawing it tells nobody; otherwise the trainer, and the clinic when
# the clinic did not do it itself.
WITHDRAWN = Recipients(trainer=True, clinic="unless_it_acted", silent_from=frozenset({S.DRAFT}))


def _registry(actions: Iterable[HandoffAction]) -> Mapping[str, HandoffAction]:
    return MappingProxyType({action.name: action for action in actions})


# In the order the page shows their buttons.
ACTIONS: Mapping[str, HandoffAction] = _registry(
    [
        HandoffAction(
            name="send",
            to=S.REQUESTED,
            side="clinic",
            sources=frozenset({S.DRAFT}),
            label="Send",
            summary="send a draft (checks every precondition, freezes the guidelines)",
            title="New referral from {clinic}",
            recipients=Recipients(trainer=True),
            on_page=False,
            conflicts=("send_blocked",),
        ),
        HandoffAction(
            name="accept",
            to=S.ACCEPTED,
            side="trainer",
            sources=frozenset({S.REQUESTED}),
            label="Accept",
            summary="accept a requested handoff",
            title="{trainer} accepted a referral",
            recipients=TELL_CLINIC,
            rechecked=True,
        ),
        HandoffAction(
            name="reject",
            to=S.REJECTED,
            side="trainer",
            sources=frozenset({S.REQUESTED}),
            label="Decline",
            summary="decline a requested handoff, with a reason",
            title="{trainer} declined a referral",
            recipients=TELL_CLINIC,
            text_arg="reason",
            reason_required=True,
            style="danger",
        ),
        HandoffAction(
            name="start",
            to=S.IN_PROGRESS,
            side="trainer",
            sources=frozenset({S.ACCEPTED}),
            label="Mark the first session",
            summary="the first session took place (accepted -> in progress)",
            title="{trainer} started training",
            recipients=TELL_CLINIC,
            rechecked=True,
        ),
        HandoffAction(
            name="hold",
            to=S.ON_HOLD,
            side="trainer",
            sources=frozenset({S.IN_PROGRESS}),
            label="Put on hold",
            summary="put on hold, with a reason",
            title="{trainer} put a referral on hold",
            recipients=TELL_CLINIC,
            text_arg="reason",
            reason_required=True,
            asks_review_date=True,
        ),
        HandoffAction(
            name="resume",
            to=S.IN_PROGRESS,
            side="trainer",
            sources=frozenset({S.ON_HOLD}),
            label="Resume",
            summary="resume a handoff on hold",
            title="{trainer} resumed training",
            recipients=TELL_CLINIC,
            rechecked=True,
        ),
        HandoffAction(
            name="complete",
            to=S.COMPLETED,
            side="trainer",
            sources=AFTER_CARE,
            label="Complete",
            summary="complete, with an optional summary",
            title="{trainer} completed a referral",
            recipients=TELL_CLINIC,
            text_arg="summary",
            text_label="Summary",
            # a progress report marked final first (progress.reports.report_submit)
            conflicts=("report_required",),
        ),
        HandoffAction(
            name="fail",
            to=S.FAILED,
            side="trainer",
            sources=AFTER_CARE,
            label="Mark failed",
            summary="the care failed, with a reason",
            title="{trainer} marked a referral as failed",
            recipients=TELL_CLINIC,
            text_arg="reason",
            reason_required=True,
            style="danger",
        ),
        HandoffAction(
            name="cancel",
            to=S.CANCELLED,
            side="clinic",
            sources=frozenset(OPEN_STATUSES),
            label="Cancel the referral",
            summary="cancel an open handoff, with a reason",
            title="{clinic} cancelled a referral",
            title_by_others="A referral of {clinic} to {trainer} was cancelled",
            recipients=WITHDRAWN,
            text_arg="reason",
            reason_required=True,
            style="danger",
        ),
        HandoffAction(
            name="enter_in_error",
            to=S.ENTERED_IN_ERROR,
            side="clinic",
            sources=frozenset(OPEN_STATUSES),
            label="Withdraw: sent in error",
            summary="mark an open handoff as entered in error",
            title="{clinic} withdrew a referral sent in error",
            recipients=WITHDRAWN,
            text_arg="reason",
            text_label="What was wrong",
            style="danger",
        ),
    ]
)


def transitions(
    actions: Iterable[HandoffAction] | None = None,
) -> dict[str, tuple[Side, frozenset[str]]]:
    """The transition table: target status -> (the side that sets it, the statuses it is reached from)."""
    table: dict[str, tuple[Side, frozenset[str]]] = {}
    for action in ACTIONS.values() if actions is None else actions:
        side, sources = table.get(action.to, (action.side, frozenset()))
        table[action.to] = (side, sources | action.sources)
    return table


def action_for_move(
    from_status: str, to_status: str, actions: Iterable[HandoffAction] | None = None
) -> HandoffAction | None:
    """The action a recorded move was: the one that leads from `from_status` to `to_status` (one at most,
    `problems` checks it), else the first that leads to `to_status`, else None (a draft created)."""
    candidates = [a for a in (ACTIONS.values() if actions is None else actions) if a.to == to_status]
    return next((a for a in candidates if a.starts_from(from_status)), candidates[0] if candidates else None)


def problems(actions: Iterable[HandoffAction] | None = None) -> list[str]:
    """What is inconsistent in a registry (the tests assert there is nothing)."""
    found: list[str] = []
    listed = list(ACTIONS.values() if actions is None else actions)
    statuses = {s.value for s in S}
    for action in listed:
        if action.to not in statuses or not action.sources <= statuses:
            found.append(f"{action.name}: an unknown status")
        if action.reason_required != (action.to in REASON_REQUIRED_STATUSES):
            found.append(f"{action.name}: reason_required disagrees with REASON_REQUIRED_STATUSES")
        if action.reason_required and action.text_arg != "reason":
            found.append(f"{action.name}: a required text must be a reason")
        if action.business_status is not None and not action.business_status.text:
            found.append(f"{action.name}: a business status needs a text")
    for a in listed:
        for b in listed:
            if a.name < b.name and a.to == b.to:
                if a.side != b.side:
                    found.append(f"{a.name}, {b.name}: one status, set by two sides")
                if a.sources & b.sources:
                    found.append(f"{a.name}, {b.name}: the same move (a recorded event names one action)")
    if len({a.name for a in listed}) != len(listed):
        found.append("two actions have the same name")
    return found
