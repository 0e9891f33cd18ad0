"""The referral life cycle as a state machine (hypothesis) in which the world changes between steps.

Steps: the referral actions through the services (send, accept, reject, start, hold, resume, complete (after
the final progress report), fail, cancel, enter in error, offer again, refer back to the physiotherapist by
either side), and changes of the world: a partnership ended or restored, a trainer deactivated, reactivated
or moved to another gym, a PT leaving a clinic (with or without a colleague) or joining one, consent
withdrawn or recorded again, a certification or CPR/AED expiring or left unverified (the expiry rows move,
not the clock; the day's `handoff_review_eligibility` runs), or renewed.

After every step, the invariants, each against an oracle computed here from the rows, not by the code under
test:
- nobody sees outside their scope: `handoff_list_for_user` and `patient_list_for_user` per persona;
- every notification written by the step has a recipient who can open it (its referral is in
  `handoff_list_for_user(recipient)`);
- no open referral to an ineligible trainer goes unnoticed: it carries a refusal that told the clinic;
- a step that takes the patient on (accept, start, resume) succeeds only for an eligible trainer;
- the plan's status follows its referrals; at most one open referral per plan.

A clinic keeps at least one active PT throughout (a clinic with nobody left can be told nothing).
"""

from __future__ import annotations

import contextlib
import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from accounts.models import Certification, Membership, Organization, Partnership, TrainerProfile, User
from referrals.care import selectors as care_selectors
from referrals.care import services as care_services
from referrals.care.models import Consent, Patient, TreatmentPlan
from referrals.errors import DomainError, NoLongerEligible
from referrals.handoffs import organizations as handoffs_organizations
from referrals.handoffs import refer_back as handoffs_refer_back
from referrals.handoffs import selectors as handoffs_selectors
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import OPEN_STATUSES, HandoffEvent, HandoffStatus, TrainerHandoff
from referrals.notify.models import Notification
from referrals.progress.models import ProgressReport
from tests import factories as f
from tests.progress.factories_reports import submit_final_report

S = HandoffStatus
P = TreatmentPlan.Status
Role = Membership.Role
pytestmark = pytest.mark.django_db

TRAINER_STEPS = ["accept", "reject", "start", "hold", "resume", "complete", "fail"]
CLINIC_STEPS = ["cancel", "enter_in_error"]
TAKES_ON = {"accept", "start", "resume"}
index = st.integers(min_value=0, max_value=63)


def pick(items: list[Any], i: int) -> Any:
    return items[i % len(items)]


def fresh(user: User) -> User:
    """The user as the next request would load them: roles and is_active read again."""
    return User.objects.get(pk=user.pk)


def day(offset: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=offset)


# --- the oracles ---------------------------------------------------------------------------------------


def roles(user: User) -> set[tuple[int, str]]:
    if not User.objects.filter(pk=user.pk, is_active=True).exists():
        return set()
    return set(Membership.objects.filter(user=user).values_list("organization_id", "role"))


class Oracle:
    """Who may see what, from the rows as they are now (read once per check)."""

    def __init__(self) -> None:
        active = set(User.objects.filter(is_active=True).values_list("pk", flat=True))
        self.roles: dict[int, set[tuple[int, str]]] = {}
        for user_id, org_id, role in Membership.objects.values_list("user_id", "organization_id", "role"):
            if user_id in active:
                self.roles.setdefault(user_id, set()).add((org_id, role))
        self.handoffs = list(
            TrainerHandoff.objects.values_list("pk", "clinic_id", "trainer_id", "gym_id", "status")
        )
        self.patients = list(Patient.objects.values_list("pk", "clinic_id"))

    def handoffs_of(self, user: User) -> set[int]:
        mine = self.roles.get(user.pk, set())
        clinics = {org for org, role in mine if role == Role.PHYSIOTHERAPIST}
        gyms = {org for org, role in mine if role == Role.TRAINER}
        return {
            pk
            for pk, clinic_id, trainer_id, gym_id, status in self.handoffs
            if clinic_id in clinics or (trainer_id == user.pk and gym_id in gyms and status != S.DRAFT)
        }

    def patients_of(self, user: User) -> set[int]:
        clinics = {org for org, role in self.roles.get(user.pk, set()) if role == Role.PHYSIOTHERAPIST}
        return {pk for pk, clinic_id in self.patients if clinic_id in clinics}


def oracle_eligible(handoff: TrainerHandoff) -> bool:
    """What accept, start and resume require: the organizations and the credentials, as of today."""
    trainer = User.objects.get(pk=handoff.trainer_id)
    if not trainer.is_active:
        return False
    if not Membership.objects.filter(
        user=trainer, organization_id=handoff.gym_id, role=Role.TRAINER
    ).exists():
        return False
    if not Partnership.objects.filter(
        clinic_id=handoff.clinic_id, gym_id=handoff.gym_id, active=True
    ).exists():
        return False
    today = timezone.localdate()
    profile = TrainerProfile.objects.get(user=trainer)
    if profile.cpr_aed_expiry is None or profile.cpr_aed_expiry < today:
        return False
    return Certification.objects.filter(profile=profile, expiry__gte=today, verified=True).exists()


def oracle_plan_status(plan: TreatmentPlan) -> tuple[str, datetime.datetime | None]:
    sent = [
        h
        for h in TrainerHandoff.objects.filter(plan=plan)
        if h.sent_at is not None and h.status != S.ENTERED_IN_ERROR
    ]
    if not sent:
        return P.ACTIVE, None
    first = min(h.sent_at for h in sent if h.sent_at is not None)
    statuses = {h.status for h in sent}
    if S.COMPLETED in statuses:
        return P.COMPLETED, first
    # the open one, else the last one sent: referred back to the physiotherapist, the plan is theirs again
    still_open = [h for h in sent if h.status in (S.REQUESTED, S.ACCEPTED, S.IN_PROGRESS, S.ON_HOLD)]
    last = still_open[0] if still_open else max(sent, key=lambda h: (h.sent_at, h.pk))
    if last.business_status == "referred-back":
        return P.ACTIVE, first
    if still_open:
        return P.DISCHARGED, first
    return P.AWAITING_TRAINER, first


# --- the machine ---------------------------------------------------------------------------------------


class ReferralLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # each example in its own savepoint, rolled back at teardown: the next one starts from nothing
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.admin = User.objects.create_superuser(
            f"root{f.UserFactory._meta.model.objects.count()}@handoff.test", f.TEST_PASSWORD, full_name="Root"
        )
        self.clinics = [f.ClinicFactory(), f.ClinicFactory()]
        self.gyms = [f.GymFactory(), f.GymFactory()]
        c0, c1 = self.clinics
        g0, g1 = self.gyms
        self.partnerships = [
            f.PartnershipFactory(clinic=c0, gym=g0),
            f.PartnershipFactory(clinic=c0, gym=g1),
            f.PartnershipFactory(clinic=c1, gym=g0),
        ]
        self.physios = [self._physio(c0), self._physio(c0), self._physio(c1), self._physio(c1)]
        self.trainers = [self._trainer(g0), self._trainer(g0), self._trainer(g1)]
        self.patients = [f.PatientFactory(clinic=c0), f.PatientFactory(clinic=c1)]
        for patient in self.patients:
            for partnership in self.partnerships:
                if partnership.clinic_id == patient.clinic_id:
                    f.ConsentFactory(patient=patient, gym=partnership.gym, recorded_by=self.physios[0])
        self.plans: list[TreatmentPlan] = []
        for patient in self.patients:
            for _ in range(2):
                self._new_plan(patient)
        self.personas = [*self.physios, *self.trainers]
        # every example starts with referrals under way, so that the world's changes have something to hit
        for plan, trainer, gym in ((0, 0, 0), (1, 2, 1), (2, 1, 0)):
            handoff = handoffs_sending.plan_discharge(
                plan=self.plans[plan],
                trainer=self.trainers[trainer],
                gym=self.gyms[gym],
                actor=self.plans[plan].physiotherapist,
            )
            if plan == 1:
                handoffs_services.handoff_accept(handoff=handoff, actor=self.trainers[trainer])
        self.seen_notifications: set[int] = set()

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- building --------------------------------------------------------------------------------------

    def _physio(self, clinic: Organization) -> User:
        user = f.UserFactory()
        f.MembershipFactory(user=user, organization=clinic, role=Role.PHYSIOTHERAPIST)
        return user

    def _trainer(self, gym: Organization) -> User:
        user = f.UserFactory()
        f.MembershipFactory(user=user, organization=gym, role=Role.TRAINER)
        profile = f.TrainerProfileFactory(user=user, max_active_clients=3)
        f.CertificationFactory(profile=profile)
        return user

    def _new_plan(self, patient: Patient) -> None:
        physio = next(
            (p for p in self.physios if (patient.clinic_id, Role.PHYSIOTHERAPIST) in roles(p)), None
        )
        if physio is None:
            return
        plan = f.PlanFactory(patient=patient, physiotherapist=physio)
        f.PlanExerciseFactory(plan=plan)
        self.plans.append(plan)

    def _active_physios(self, clinic_id: int) -> list[User]:
        return [p for p in self.physios if (clinic_id, Role.PHYSIOTHERAPIST) in roles(p)]

    def _handoffs(self, *, open_only: bool = False) -> list[TrainerHandoff]:
        rows = TrainerHandoff.objects.order_by("pk")
        return list(rows.filter(status__in=OPEN_STATUSES) if open_only else rows)

    # --- the referral actions --------------------------------------------------------------------------

    @rule(plan=index, trainer=index, gym=index, actor=index)
    def send(self, plan: int, trainer: int, gym: int, actor: int) -> None:
        chosen = TreatmentPlan.objects.select_related("patient__clinic").get(pk=pick(self.plans, plan).pk)
        who, where = fresh(pick(self.trainers, trainer)), pick(self.gyms, gym)
        if gym % 4:  # mostly a gym the trainer is at now, sometimes any gym
            current = list(Membership.objects.filter(user=who, role=Role.TRAINER).order_by("pk"))
            where = pick(current, gym).organization if current else where
        physios = self._active_physios(chosen.patient.clinic_id) if actor % 4 else []
        sender = fresh(pick(physios, actor)) if physios else fresh(pick(self.physios, actor))
        try:
            handoff = handoffs_sending.plan_discharge(plan=chosen, trainer=who, gym=where, actor=sender)
        except (DomainError, ValidationError):
            return
        assert oracle_eligible(handoff), "sent to an ineligible trainer"
        assert Consent.objects.filter(patient=chosen.patient, gym=where, withdrawn_at__isnull=True).exists()

    @rule(which=index, step=st.sampled_from(TRAINER_STEPS))
    def trainer_acts(self, which: int, step: str) -> None:
        self.trainer_step(which, step)

    def trainer_step(self, which: int, step: str) -> None:
        handoffs = self._handoffs(open_only=which % 4 != 0)
        self._trainer_step(pick(handoffs, which) if handoffs else None, step)

    def _trainer_step(self, handoff: TrainerHandoff | None, step: str) -> None:
        if handoff is None:
            return
        eligible = oracle_eligible(handoff)
        kwargs = {"reason": f"reason for {step}"} if step in ("reject", "hold", "fail") else {}
        if step == "complete":  # the final progress report first, when the trainer may still write it
            with contextlib.suppress(DomainError, ValidationError):
                submit_final_report(handoff, fresh(handoff.trainer))
        try:
            handoffs_services.HANDOFF_ACTIONS[step](handoff=handoff, actor=fresh(handoff.trainer), **kwargs)
        except NoLongerEligible:
            assert not eligible, "an eligible trainer was refused"
            assert HandoffEvent.objects.filter(handoff=handoff, kind=HandoffEvent.Kind.REFUSAL).exists()
            return
        except (DomainError, ValidationError):
            return
        if step in TAKES_ON:
            assert eligible, f"{step} went through for an ineligible trainer"
        if step == "complete":
            assert ProgressReport.objects.filter(handoff=handoff, final=True).exists(), "completed unreported"

    @rule(which=index, step=st.sampled_from(sorted(TAKES_ON)))
    def trainer_takes_on(self, which: int, step: str) -> None:
        """Accept, start or resume an open referral; half the time one whose trainer is no longer eligible,
        if there is one (the case the re-check exists for)."""
        handoffs = self._handoffs(open_only=True)
        lapsed = [h for h in handoffs if not oracle_eligible(h)]
        self._trainer_step(
            pick(lapsed, which) if lapsed and which % 2 else pick(handoffs, which) if handoffs else None, step
        )

    @rule(which=index, step=st.sampled_from(CLINIC_STEPS), actor=index)
    def clinic_step(self, which: int, step: str, actor: int) -> None:
        handoffs = self._handoffs(open_only=which % 4 != 0)
        if not handoffs:
            return
        handoff = pick(handoffs, which)
        physios = self._active_physios(handoff.clinic_id) if actor % 4 else []
        by = fresh(pick(physios, actor)) if physios else fresh(pick(self.physios, actor))
        try:
            handoffs_services.HANDOFF_ACTIONS[step](handoff=handoff, actor=by, reason=f"reason for {step}")
        except (DomainError, ValidationError):
            return

    @rule(which=index, by_trainer=st.booleans(), end=st.booleans())
    def refer_back(self, which: int, by_trainer: bool, end: bool) -> None:
        """The trainer or a physiotherapist of the clinic sends the client back to the physiotherapist."""
        handoffs = self._handoffs(open_only=which % 4 != 0)
        if not handoffs:
            return
        handoff = pick(handoffs, which)
        physios = self._active_physios(handoff.clinic_id)
        by = fresh(handoff.trainer) if by_trainer or not physios else fresh(pick(physios, which))
        before = handoff.status
        try:
            handoffs_refer_back.handoff_refer_back(handoff=handoff, actor=by, note="Back to the PT", end=end)
        except (DomainError, ValidationError):
            return
        assert before in (S.ACCEPTED, S.IN_PROGRESS, S.ON_HOLD), f"referred back from {before}"
        handoff.refresh_from_db()
        assert handoff.business_status == "referred-back"
        assert handoff.status == (S.ON_HOLD if before == S.IN_PROGRESS and not end else S.FAILED)

    @rule(patient=index)
    def new_plan(self, patient: int) -> None:
        if len(self.plans) < 10:
            self._new_plan(pick(self.patients, patient))

    # --- the world changes -----------------------------------------------------------------------------

    @rule(
        change=st.sampled_from(["ended", "restored", "deactivated", "reactivated", "moved"]), a=index, b=index
    )
    def organizations_change(self, change: str, a: int, b: int) -> None:
        """A partnership ended or restored; a trainer deactivated, reactivated or moved to another gym."""
        if change == "ended":
            self.partnership_ended(a)
        elif change == "restored":
            self.partnership_restored(a)
        elif change == "deactivated":
            self.trainer_deactivated(a)
        elif change == "reactivated":
            self.trainer_reactivated(a)
        else:
            self.trainer_moved(a, b)

    @rule(
        change=st.sampled_from(["left", "joined", "withdrawn", "recorded"]),
        a=index,
        b=index,
        flag=st.booleans(),
    )
    def people_change(self, change: str, a: int, b: int, flag: bool) -> None:
        """A PT leaves a clinic (handing over or not) or joins one; a patient withdraws or gives consent."""
        if change == "left":
            self.physio_left(a, b, flag)
        elif change == "joined":
            self.physio_joined(a, b)
        elif change == "withdrawn":
            self.consent_withdrawn(a, b)
        else:
            self.consent_recorded(a, b)

    @rule(change=st.sampled_from(["certification", "cpr_aed", "unverified", "renewed"]), a=index)
    def credentials_change(self, change: str, a: int) -> None:
        """A certification or CPR/AED expires or is left unverified (and the day's review runs), or all
        of a trainer's credentials are renewed."""
        if change == "renewed":
            self.credentials_renewed(a)
        else:
            self.credential_lapsed(a, change)

    def partnership_ended(self, which: int) -> None:
        handoffs_organizations.partnership_end(partnership=pick(self.partnerships, which), actor=self.admin)

    def partnership_restored(self, which: int) -> None:
        Partnership.objects.filter(pk=pick(self.partnerships, which).pk).update(active=True)

    def trainer_deactivated(self, which: int) -> None:
        handoffs_organizations.user_deactivate(user=fresh(pick(self.trainers, which)), actor=self.admin)

    def trainer_reactivated(self, which: int) -> None:
        User.objects.filter(pk=pick(self.trainers, which).pk).update(is_active=True)

    def trainer_moved(self, which: int, gym: int) -> None:
        trainer, target = pick(self.trainers, which), pick(self.gyms, gym)
        for membership in Membership.objects.filter(user=trainer, role=Role.TRAINER).exclude(
            organization=target
        ):
            handoffs_organizations.trainer_remove_from_gym(membership=membership, actor=self.admin)
        Membership.objects.get_or_create(user=trainer, organization=target, role=Role.TRAINER)

    def physio_left(self, which: int, colleague: int, handed: bool) -> None:
        physio = pick(self.physios, which)
        membership = Membership.objects.filter(user=physio, role=Role.PHYSIOTHERAPIST).first()
        if membership is None:
            return
        others = [p for p in self._active_physios(membership.organization_id) if p.pk != physio.pk]
        if not others:
            return  # a clinic keeps at least one PT
        successor = fresh(pick(others, colleague)) if handed else None
        handoffs_organizations.physio_leave_clinic(
            membership=membership, actor=self.admin, colleague=successor
        )

    def physio_joined(self, which: int, clinic: int) -> None:
        Membership.objects.get_or_create(
            user=pick(self.physios, which), organization=pick(self.clinics, clinic), role=Role.PHYSIOTHERAPIST
        )

    def consent_withdrawn(self, patient: int, gym: int) -> None:
        chosen = pick(self.patients, patient)
        consent = Consent.objects.filter(
            patient=chosen, gym=pick(self.gyms, gym), withdrawn_at__isnull=True
        ).first()
        physios = self._active_physios(chosen.clinic_id)
        if consent is not None and physios:
            care_services.consent_withdraw(
                consent=consent, actor=fresh(physios[0]), reason="Changed their mind."
            )

    def consent_recorded(self, patient: int, gym: int) -> None:
        chosen, where = pick(self.patients, patient), pick(self.gyms, gym)
        physios = self._active_physios(chosen.clinic_id)
        if (
            physios
            and not Consent.objects.filter(patient=chosen, gym=where, withdrawn_at__isnull=True).exists()
        ):
            partnered = Partnership.objects.filter(
                clinic_id=chosen.clinic_id, gym=where, active=True
            ).exists()
            if partnered:
                care_services.consent_record(
                    patient=chosen, gym=where, scope=Consent.Scope.GUIDELINES, actor=fresh(physios[0])
                )
            else:  # consent is recorded only for a partner gym of the patient's clinic, and nothing stored
                with pytest.raises(ValidationError):
                    care_services.consent_record(
                        patient=chosen, gym=where, scope=Consent.Scope.GUIDELINES, actor=fresh(physios[0])
                    )

    def credential_lapsed(self, which: int, what: str) -> None:
        """A day passes on which a credential lapsed; the day's review runs. Mostly the credential of a
        trainer with an open referral (where it matters)."""
        trainer = pick(self.trainers, which)
        busy = TrainerHandoff.objects.filter(status__in=OPEN_STATUSES, sent_at__isnull=False)
        trainer_ids = sorted(set(busy.values_list("trainer_id", flat=True)))
        if trainer_ids and which % 3:
            trainer = User.objects.get(pk=pick(trainer_ids, which))
        if what == "certification":
            Certification.objects.filter(profile__user=trainer).update(expiry=day(-1))
        elif what == "cpr_aed":
            TrainerProfile.objects.filter(user=trainer).update(cpr_aed_expiry=day(-1))
        else:
            Certification.objects.filter(profile__user=trainer).update(verified=False)
        handoffs_services.handoff_review_eligibility()

    def credentials_renewed(self, which: int) -> None:
        trainer = pick(self.trainers, which)
        Certification.objects.filter(profile__user=trainer).update(expiry=day(400), verified=True)
        TrainerProfile.objects.filter(user=trainer).update(cpr_aed_expiry=day(300))

    # --- the invariants --------------------------------------------------------------------------------

    @invariant()
    def nobody_sees_outside_their_scope(self) -> None:
        oracle = Oracle()
        for persona in self.personas:
            user = fresh(persona)
            seen = set(handoffs_selectors.handoff_list_for_user(user=user).values_list("pk", flat=True))
            assert seen == oracle.handoffs_of(user), f"handoff scope of {user}"
            patients = set(care_selectors.patient_list_for_user(user=user).values_list("pk", flat=True))
            assert patients == oracle.patients_of(user), f"patient scope of {user}"

    @invariant()
    def every_new_notification_reaches_someone_who_can_open_it(self) -> None:
        for note in Notification.objects.exclude(pk__in=self.seen_notifications).select_related(
            "event__handoff", "recipient"
        ):
            recipient = fresh(note.recipient)
            assert recipient.is_active, f"{note.title} to an inactive user"
            visible = handoffs_selectors.handoff_list_for_user(user=recipient).filter(pk=note.handoff_id or 0)
            assert visible.exists(), f"{note.title!r} to {recipient}, who cannot open it"
            self.seen_notifications.add(note.pk)

    @invariant()
    def no_open_referral_to_an_ineligible_trainer_goes_unnoticed(self) -> None:
        for handoff in TrainerHandoff.objects.filter(status__in=OPEN_STATUSES).exclude(status=S.DRAFT):
            if oracle_eligible(handoff):
                continue
            # a refusal (at a step, or by the day's review) that told someone at the clinic: when it was
            # written, its recipient could open the referral (the invariant above), and a refusal is told
            # to the clinic's side only
            told = Notification.objects.filter(
                event__handoff=handoff, event__kind=HandoffEvent.Kind.REFUSAL
            ).exclude(recipient_id=handoff.trainer_id)
            assert told.exists(), (
                f"open {handoff.status} referral to an ineligible trainer, the clinic not told"
            )

    @invariant()
    def plan_status_follows_its_referrals(self) -> None:
        for plan in TreatmentPlan.objects.filter(pk__in=[p.pk for p in self.plans]):
            assert (plan.status, plan.discharged_at) == oracle_plan_status(plan), f"plan {plan.pk}"
            assert TrainerHandoff.objects.filter(plan=plan, status__in=OPEN_STATUSES).count() <= 1


def test_the_referral_life_cycle_holds_its_invariants_while_the_world_changes(db: Any) -> None:
    # bounded to well under a minute: an example (up to 50 steps, the invariants after each) takes about
    # 1.5 s on SQLite and 10 s on PostgreSQL on the shared CI machine
    examples = 5 if connection.vendor == "postgresql" else 20
    run_state_machine_as_test(
        ReferralLifecycle,
        settings=settings(max_examples=examples, stateful_step_count=50, deadline=None),
    )
