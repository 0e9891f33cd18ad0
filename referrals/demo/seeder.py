"""Builds the demo world through the services, idempotently."""

from __future__ import annotations

import datetime
import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from django.core.management.base import CommandError
from django.utils import timezone

from accounts.models import (
    Certification,
    Membership,
    Organization,
    Partnership,
    PhysiotherapistProfile,
    TrainerProfile,
    TrainerSpecialization,
    User,
)
from referrals.care import services as care_services
from referrals.care.models import Patient, TreatmentPlan
from referrals.concerns import services as concerns_services
from referrals.demo import history as demo_history
from referrals.demo.data import (
    ADMIN,
    CLINIC,
    DEFAULT_DEMO_PASSWORD,
    ENV_NAME,
    FULL,
    IRON_WORKS,
    ORG_ADMIN,
    PATIENTS,
    PT,
    PT2,
    RIVERSIDE,
    TRAINER,
    TRAINERS,
    USERS,
    DemoPatient,
    DemoTrainer,
    DemoUser,
    M,
    Role,
    Story,
)
from referrals.handoffs import organizations as handoffs_organizations
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import TrainerHandoff
from referrals.library.models import Exercise
from referrals.progress import reports as progress_reports
from referrals.progress.models import ProgressReport


class Seeder:
    """Builds the demo world inside the caller's transaction; `created` counts what it added."""

    def __init__(self, *, password: str) -> None:
        self.password = password
        self.created: Counter[str] = Counter()
        self.users: dict[str, User] = {}
        self.orgs: dict[str, Organization] = {}
        self.gym_of: dict[str, Organization] = {}

    def _ensure(self, model: type[M], defaults: dict[str, Any] | None = None, **lookup: Any) -> M:
        obj, created = model._default_manager.get_or_create(defaults=defaults, **lookup)
        if created:
            self.created[str(model._meta.verbose_name_plural)] += 1
        return obj

    # --- organizations and people ----------------------------------------------------------------------

    def run(self) -> None:
        self._organizations()
        self._people()
        pending = [p for p in PATIENTS if not self._patient_exists(p)]
        if pending:
            with self._books_open(self.users[FULL]):
                for scenario in pending:
                    self._build(scenario)

    def _organizations(self) -> None:
        for name, kind, city in (
            (CLINIC, Organization.Kind.CLINIC, "Lakeside"),
            (IRON_WORKS, Organization.Kind.GYM, "Lakeside"),
            (RIVERSIDE, Organization.Kind.GYM, "Riverside"),
        ):
            org = self._ensure(Organization, name=name, defaults={"kind": kind, "city": city})
            if org.kind != kind:
                raise CommandError(f"{name!r} already exists as a {org.kind}, not a {kind}.")
            self.orgs[name] = org
        for gym in (IRON_WORKS, RIVERSIDE):
            self._ensure(Partnership, clinic=self.orgs[CLINIC], gym=self.orgs[gym], defaults={"active": True})

    def _user(self, spec: DemoUser) -> User:
        user = User.objects.filter(email=spec.email).first()
        if user is None:
            create = User.objects.create_superuser if spec.email == ADMIN else User.objects.create_user
            user = create(spec.email, self.password, full_name=spec.full_name)
            self.created["users"] += 1
        return user

    def _people(self) -> None:
        # Memberships exist before any service runs: policies cache a user's roles on first use.
        self.users = {spec.email: self._user(spec) for spec in USERS}
        clinic = self.orgs[CLINIC]
        today = timezone.localdate()
        for number, email in enumerate((PT, PT2), start=1):
            self._ensure(Membership, user=self.users[email], organization=clinic, role=Role.PHYSIOTHERAPIST)
            self._ensure(
                PhysiotherapistProfile,
                user=self.users[email],
                defaults={
                    "licence_number": f"PT-DEMO-{number:04d}",
                    "jurisdiction": "Wisconsin",
                    "licence_expiry": today + datetime.timedelta(days=400 + 100 * number),
                },
            )
        self._ensure(Membership, user=self.users[ORG_ADMIN], organization=clinic, role=Role.ORG_ADMIN)
        for spec in TRAINERS:
            self._trainer(spec, today)

    def _trainer(self, spec: DemoTrainer, today: datetime.date) -> None:
        user = self.users[spec.email]
        gym = self.orgs[spec.gym]
        self.gym_of[spec.email] = gym
        self._ensure(Membership, user=user, organization=gym, role=Role.TRAINER)
        profile = self._ensure(
            TrainerProfile,
            user=user,
            defaults={
                "cpr_aed_expiry": today + datetime.timedelta(days=spec.cpr_aed_days),
                "accepting_new_clients": spec.accepting_new_clients,
                "max_active_clients": spec.max_active_clients,
                "bio": spec.bio,
            },
        )
        for specialization in spec.specializations:
            self._ensure(TrainerSpecialization, profile=profile, specialization=specialization)
        for body, number, days in spec.certifications:
            certification = self._ensure(
                Certification,
                issuing_body=body,
                number=number,
                defaults={"profile": profile, "expiry": today + datetime.timedelta(days=days)},
            )
            if certification.is_current(today) and not certification.verified:
                handoffs_organizations.certification_verify(
                    certification=certification, actor=self.users[ADMIN]
                )

    @contextmanager
    def _books_open(self, trainer: User) -> Iterator[None]:
        """The not-accepting trainer took the demo's older referrals before closing to new clients: open
        their books while the scenarios are built, and close them again afterwards."""
        profile = TrainerProfile.objects.get(user=trainer)
        profile.accepting_new_clients = True
        profile.save(update_fields=["accepting_new_clients"])
        yield
        profile.accepting_new_clients = False
        profile.save(update_fields=["accepting_new_clients"])

    # --- patients and their stories --------------------------------------------------------------------

    def _patient_exists(self, scenario: DemoPatient) -> bool:
        return Patient.objects.filter(clinic=self.orgs[CLINIC], full_name=scenario.name).exists()

    def _build(self, scenario: DemoPatient) -> None:
        # A patient with a history came in before the referral was sent, the day before it (demo.history).
        started = self._history_start(scenario)
        with demo_history.on(started - datetime.timedelta(days=1), hour=9) if started else nullcontext():
            plan = self._patient_and_plan(scenario)
        self.created["patients"] += 1
        self._story(scenario.story)(plan, self.users[scenario.physio], scenario)

    @staticmethod
    def _history_start(scenario: DemoPatient) -> datetime.date | None:
        """The day the referral was sent and accepted, for a scenario with a history."""
        if scenario.history is None:
            return None
        return timezone.localdate() - datetime.timedelta(weeks=scenario.history.weeks)

    def _patient_and_plan(self, scenario: DemoPatient) -> TreatmentPlan:
        physio = self.users[scenario.physio]
        today = timezone.localdate()
        patient = care_services.patient_create(
            clinic=self.orgs[CLINIC],
            actor=physio,
            full_name=scenario.name,
            date_of_birth=scenario.born,
            email=f"{scenario.name.split()[0].lower()}@patients.demo",
        )
        precautions = []
        for row in scenario.precautions:
            data = {k: v for k, v in row.items() if k != "valid_days"}
            if row.get("valid_days") is not None:
                data["valid_until"] = today + datetime.timedelta(days=row["valid_days"])
            precautions.append(data)
        plan = care_services.plan_create(
            patient=patient,
            actor=physio,
            diagnosis=scenario.diagnosis,
            icd10_code=scenario.icd10_code,
            goals=scenario.goals,
            start_date=today - datetime.timedelta(days=scenario.started_days_ago),
            exercises=[{"exercise": self._exercise(name), **dose} for name, dose in scenario.exercises],
            precautions=precautions,
            red_flags=scenario.red_flags,
        )
        for gym, scope in scenario.consents:
            care_services.consent_record(patient=patient, gym=self.orgs[gym], scope=scope, actor=physio)
        return plan

    @staticmethod
    def _exercise(name: str) -> Exercise:
        found = Exercise.objects.filter(name=name).first()
        if found is None:
            raise CommandError(f"The exercise library has no {name!r}: run `manage.py migrate` first.")
        return found

    def _story(self, story: Story) -> Callable[[TreatmentPlan, User, DemoPatient], None]:
        return {
            "active": self._active,
            "draft": self._draft,
            "requested": self._requested,
            "accepted": self._accepted,
            "in_progress": self._in_progress,
            "concern": self._concern,
            "on_hold": self._on_hold,
            "completed": self._completed,
            "declined_then_reoffered": self._declined_then_reoffered,
            "cancelled": self._cancelled,
        }[story]

    def _send(self, plan: TreatmentPlan, physio: User, trainer: str) -> TrainerHandoff:
        handoff = handoffs_sending.plan_discharge(
            plan=plan, trainer=self.users[trainer], gym=self.gym_of[trainer], actor=physio
        )
        self.created["referrals"] += 1
        return handoff

    def _started(self, plan: TreatmentPlan, physio: User, scenario: DemoPatient) -> TrainerHandoff:
        """Sent, accepted and started; with a history, weeks ago, the sessions since logged on their days
        (the first attended one starts the referral) and a report written and acknowledged."""
        trainer = self.users[scenario.trainer]
        started = self._history_start(scenario)
        if scenario.history is None or started is None:
            handoff = self._send(plan, physio, scenario.trainer)
            handoffs_services.handoff_accept(handoff=handoff, actor=trainer)
            return handoffs_services.handoff_start(handoff=handoff, actor=trainer)
        with demo_history.on(started, hour=10):
            handoff = self._send(plan, physio, scenario.trainer)
            handoffs_services.handoff_accept(handoff=handoff, actor=trainer)
        self.created["session logs"] += demo_history.replay(
            handoff=handoff, trainer=trainer, physio=physio, history=scenario.history, accepted_on=started
        )
        return TrainerHandoff.objects.get(pk=handoff.pk)

    def _active(self, plan: TreatmentPlan, physio: User, scenario: DemoPatient) -> None:
        """Still in treatment at the clinic: no referral yet."""

    def _draft(self, plan: TreatmentPlan, physio: User, scenario: DemoPatient) -> None:
        trainer = scenario.trainer
        handoffs_sending.handoff_create(
            plan=plan, trainer=self.users[trainer], gym=self.gym_of[trainer], actor=physio
        )
        self.created["referrals"] += 1

    def _requested(self, plan: TreatmentPlan, physio: User, scenario: DemoPatient) -> None:
        self._send(plan, physio, scenario.trainer)

    def _accepted(self, plan: TreatmentPlan, physio: User, scenario: DemoPatient) -> None:
        handoff = self._send(plan, physio, scenario.trainer)
        handoffs_services.handoff_accept(handoff=handoff, actor=self.users[scenario.trainer])

    def _in_progress(self, plan: TreatmentPlan, physio: User, scenario: DemoPatient) -> None:
        self._started(plan, physio, scenario)

    def _concern(self, plan: TreatmentPlan, physio: User, scenario: DemoPatient) -> None:
        handoff = self._started(plan, physio, scenario)
        concerns_services.handoff_raise_concern(
            handoff=handoff, actor=self.users[scenario.trainer], text=scenario.notes["concern"]
        )

    def _on_hold(self, plan: TreatmentPlan, physio: User, scenario: DemoPatient) -> None:
        handoff = self._started(plan, physio, scenario)
        handoffs_services.handoff_hold(
            handoff=handoff, actor=self.users[scenario.trainer], reason=scenario.notes["hold"]
        )

    def _completed(self, plan: TreatmentPlan, physio: User, scenario: DemoPatient) -> None:
        handoff = self._started(plan, physio, scenario)
        # completing needs the final progress report (progress.reports)
        draft = progress_reports.report_compose(handoff=handoff)
        progress_reports.report_submit(
            handoff=handoff,
            actor=self.users[scenario.trainer],
            period_start=draft.period_start,
            period_end=draft.period_end,
            impressions=scenario.notes["complete"],
            goals=[ProgressReport.GoalStatus.MET] * len(draft.goals),
            final=True,
        )
        handoffs_services.handoff_complete(
            handoff=handoff, actor=self.users[scenario.trainer], summary=scenario.notes["complete"]
        )

    def _declined_then_reoffered(self, plan: TreatmentPlan, physio: User, scenario: DemoPatient) -> None:
        """The first trainer declines; the plan is offered to the other trainer, who accepts."""
        first = self._send(plan, physio, scenario.trainer)
        handoffs_services.handoff_reject(
            handoff=first, actor=self.users[scenario.trainer], reason=scenario.notes["reject"]
        )
        other = TRAINER if scenario.trainer != TRAINER else FULL
        second = self._send(plan, physio, other)
        handoffs_services.handoff_accept(handoff=second, actor=self.users[other])

    def _cancelled(self, plan: TreatmentPlan, physio: User, scenario: DemoPatient) -> None:
        handoff = self._send(plan, physio, scenario.trainer)
        handoffs_services.handoff_cancel(handoff=handoff, actor=physio, reason=scenario.notes["cancel"])


def demo_password() -> str:
    return os.environ.get(ENV_NAME) or DEFAULT_DEMO_PASSWORD
