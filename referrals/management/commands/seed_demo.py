"""`manage.py seed_demo`: demo data for a first look at Handoff (`make run` calls it on every start).

Idempotent. Organizations, users, memberships, profiles and credentials are looked up by their natural
keys and created only when missing; a user's password is set only when the user is created. Each patient
scenario is keyed by (clinic, patient name): an existing patient means its scenario was built, and it is
skipped. Everything of the referral domain (patients, plans, consent, handoffs, concerns) is written
through `referrals.services`, so the events, notifications and outbox rows are the real ones.
"""

from __future__ import annotations

import datetime
import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, TypeVar

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction
from django.utils import timezone

from accounts.models import (
    Certification,
    Membership,
    Organization,
    Partnership,
    PhysiotherapistProfile,
    Specialization,
    TrainerProfile,
    TrainerSpecialization,
    User,
)
from referrals import services
from referrals.models import Consent, Exercise, Patient, Precaution, TrainerHandoff, TreatmentPlan

# A published, demo-only password for the seeded accounts. Never use it for a real account.
DEFAULT_DEMO_PASSWORD = "handoff-demo-2026"  # noqa: S105
ENV_NAME = "HANDOFF_DEMO_PASSWORD"

CLINIC = "Lakeside Physiotherapy"
IRON_WORKS = "Iron Works Gym"
RIVERSIDE = "Riverside Fitness"

PT = "pt@lakeside.demo"
PT2 = "pt2@lakeside.demo"
TRAINER = "trainer@ironworks.demo"
FULL = "full@ironworks.demo"
EXPIRED = "expired@riverside.demo"
ORG_ADMIN = "manager@lakeside.demo"
ADMIN = "admin@handoff.demo"

Role = Membership.Role
Kind = Precaution.Kind
Unit = Precaution.Unit
Scope = Consent.Scope
M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class DemoUser:
    email: str
    full_name: str
    role: str
    shows: str


# In the order of the login table.
USERS: tuple[DemoUser, ...] = (
    DemoUser(PT, "Maya Chen", "physiotherapist", "12 patients, referrals in every status, an urgent concern"),
    DemoUser(PT2, "Daniel Okafor", "physiotherapist", "the same clinic; notified of a hold and a completion"),
    DemoUser(TRAINER, "Sam Rivera", "trainer", "has new referrals to accept and active clients"),
    DemoUser(FULL, "Jordan Blake", "trainer", "not accepting new clients; one client on hold"),
    DemoUser(EXPIRED, "Priya Nair", "trainer", "certification expired: cannot be sent referrals"),
    DemoUser(ORG_ADMIN, "Lena Park", "clinic org admin", "Lakeside's organization admin (no clinical lists)"),
    DemoUser(ADMIN, "Handoff Admin", "superuser", "the Django admin at /admin/"),
)


@dataclass(frozen=True)
class DemoTrainer:
    email: str
    gym: str
    accepting_new_clients: bool
    max_active_clients: int
    cpr_aed_days: int
    certifications: tuple[tuple[str, str, int], ...]  # (issuing body, number, expiry in days from today)
    specializations: tuple[str, ...]
    bio: str


TRAINERS: tuple[DemoTrainer, ...] = (
    DemoTrainer(
        TRAINER,
        IRON_WORKS,
        accepting_new_clients=True,
        max_active_clients=15,
        cpr_aed_days=200,
        certifications=(
            (Certification.IssuingBody.NSCA_CPT, "DEMO-CPT-0001", 420),
            (Certification.IssuingBody.ACSM_EP, "DEMO-EP-0001", 600),
        ),
        specializations=(Specialization.POST_REHAB, Specialization.CORRECTIVE_EXERCISE),
        bio="Ten years of post-rehab strength work; knees, hips and shoulders.",
    ),
    DemoTrainer(
        FULL,
        IRON_WORKS,
        # Closed to new clients once the demo referrals below were sent (see Seeder._books_open).
        accepting_new_clients=False,
        max_active_clients=8,
        cpr_aed_days=150,
        certifications=((Certification.IssuingBody.ACE, "DEMO-ACE-0002", 300),),
        specializations=(Specialization.SENIOR_FITNESS, Specialization.GENERAL_FITNESS),
        bio="Strength and balance for older adults.",
    ),
    DemoTrainer(
        EXPIRED,
        RIVERSIDE,
        accepting_new_clients=True,
        max_active_clients=10,
        cpr_aed_days=250,
        certifications=((Certification.IssuingBody.NASM_CPT, "DEMO-NASM-0003", -30),),
        specializations=(Specialization.SPORTS_PERFORMANCE,),
        bio="Return-to-sport conditioning. Certification renewal pending.",
    ),
)

Story = Literal[
    "active",
    "draft",
    "requested",
    "accepted",
    "in_progress",
    "concern",
    "on_hold",
    "completed",
    "declined_then_reoffered",
    "cancelled",
]


@dataclass(frozen=True)
class DemoPatient:
    name: str
    born: datetime.date
    physio: str
    diagnosis: str
    icd10_code: str
    goals: str
    started_days_ago: int
    exercises: tuple[tuple[str, dict[str, Any]], ...]  # (library exercise name, dose)
    precautions: tuple[dict[str, Any], ...]  # `valid_days` becomes valid_until, days from today
    red_flags: tuple[str, ...]
    consents: tuple[tuple[str, str], ...]  # (gym, scope)
    story: Story
    trainer: str = TRAINER
    notes: dict[str, str] = field(default_factory=dict)


def reps(sets: int, count: int, per_week: int = 3, **extra: Any) -> dict[str, Any]:
    return {"sets": sets, "reps": count, "frequency_per_week": per_week, **extra}


def hold(sets: int, seconds: int, per_week: int = 5, **extra: Any) -> dict[str, Any]:
    return {"sets": sets, "hold_seconds": seconds, "frequency_per_week": per_week, **extra}


def minutes(count: int, per_week: int = 3, **extra: Any) -> dict[str, Any]:
    return {"sets": 1, "duration_minutes": count, "frequency_per_week": per_week, **extra}


def kg(value: str) -> dict[str, Any]:
    return {"load_unit": "kg", "load_value": Decimal(value)}


BAND: dict[str, Any] = {"load_unit": "band"}
BODYWEIGHT: dict[str, Any] = {"load_unit": "bodyweight"}


def pain_rule(score: int, detail: str) -> dict[str, Any]:
    return {"kind": Kind.PAIN_RULE, "limit_value": Decimal(score), "limit_unit": Unit.PAIN, "detail": detail}


def load_limit(region: str, value: str, detail: str, valid_days: int | None = None) -> dict[str, Any]:
    return {
        "kind": Kind.LOAD_LIMIT,
        "body_region": region,
        "limit_value": Decimal(value),
        "limit_unit": Unit.KG,
        "detail": detail,
        "valid_days": valid_days,
    }


def avoid(detail: str, region: str = "") -> dict[str, Any]:
    return {"kind": Kind.AVOID_MOVEMENT, "body_region": region, "detail": detail}


BOTH_GYMS = ((IRON_WORKS, Scope.GUIDELINES), (RIVERSIDE, Scope.GUIDELINES))

PATIENTS: tuple[DemoPatient, ...] = (
    DemoPatient(
        "Olivia Bennett",
        datetime.date(1979, 3, 14),
        PT,
        "Right rotator cuff tendinopathy",
        "M75.1",
        "Lift a 10 kg box to shoulder height without pain.",
        56,
        (
            ("Banded External Rotation", reps(3, 15, **BAND)),
            ("Scapular Retraction", reps(3, 12)),
            ("Wall Slides", reps(2, 10, 5)),
        ),
        (
            load_limit("shoulder", "5", "No overhead load above 5 kg.", valid_days=42),
            pain_rule(3, "Stop the exercise if shoulder pain goes above 3/10."),
        ),
        ("Night pain or numbness down the arm",),
        ((IRON_WORKS, Scope.GUIDELINES),),
        "requested",
    ),
    DemoPatient(
        "Marcus Reid",
        datetime.date(1994, 8, 2),
        PT2,
        "Anterior cruciate ligament reconstruction, left knee, 5 months post-op",
        "S83.5",
        "Return to recreational football; single-leg hop within 90% of the other side.",
        140,
        (
            ("Goblet Squat", reps(3, 10, **kg("12"))),
            ("Step-Ups", reps(3, 12, **BODYWEIGHT)),
            ("Single-Leg Stance on Balance Pad", hold(3, 30, 4)),
            ("Stationary Bike", minutes(20)),
        ),
        (
            avoid("No pivoting, cutting or jumping drills until cleared.", "knee"),
            pain_rule(2, "Knee pain above 2/10 or swelling the next morning: drop the load back one step."),
        ),
        ("Knee giving way", "Swelling that does not settle within 24 hours"),
        ((IRON_WORKS, Scope.WITH_DIAGNOSIS),),
        "requested",
    ),
    DemoPatient(
        "Hannah Walsh",
        datetime.date(1985, 11, 23),
        PT,
        "Non-specific chronic low back pain",
        "M54.5",
        "Garden for an hour and pick up her toddler without flare-ups.",
        70,
        (
            ("Bird Dog", reps(3, 10)),
            ("Glute Bridge", reps(3, 12)),
            ("Hip Hinge with Dowel", reps(2, 10)),
        ),
        (
            load_limit("lumbar_spine", "20", "Keep deadlift-pattern loads at or below 20 kg for now."),
            pain_rule(4, "Some discomfort is fine; stop if pain exceeds 4/10."),
        ),
        ("Numbness in the saddle area", "New weakness in either leg"),
        ((IRON_WORKS, Scope.GUIDELINES),),
        "accepted",
    ),
    DemoPatient(
        "Ethan Brooks",
        datetime.date(2001, 6, 9),
        PT2,
        "Patellofemoral pain syndrome, right knee",
        "M22.2",
        "Run 5 km pain-free.",
        49,
        (
            ("Side-Lying Hip Abduction", reps(3, 15)),
            ("Terminal Knee Extension", reps(3, 15, **BAND)),
            ("Forward Step-Down", reps(3, 8)),
        ),
        (avoid("Avoid deep loaded knee flexion beyond 90 degrees.", "knee"),),
        ("Locking or catching of the knee",),
        ((IRON_WORKS, Scope.GUIDELINES),),
        "in_progress",
    ),
    DemoPatient(
        "Grace Liu",
        datetime.date(1972, 1, 30),
        PT,
        "Lateral epicondylalgia, right elbow",
        "M77.1",
        "Play tennis twice a week without elbow pain.",
        63,
        (
            ("Eccentric Wrist Extension", reps(3, 15, **kg("2"))),
            ("Putty Grip Squeeze", reps(3, 10)),
            ("Wrist Extensor Stretch", hold(3, 30, 7)),
        ),
        (
            load_limit("elbow", "3", "Grip loads up to 3 kg.", valid_days=28),
            pain_rule(3, "Stop gripping work if elbow pain goes above 3/10."),
        ),
        ("Numbness or tingling in the fingers",),
        ((IRON_WORKS, Scope.GUIDELINES),),
        "concern",
        notes={
            "concern": "Grace felt tingling in her ring and little fingers after grip work today. "
            "I stopped the grip exercises. Should we continue next session?"
        },
    ),
    DemoPatient(
        "Noah Patel",
        datetime.date(1990, 4, 17),
        PT2,
        "Lateral ankle sprain, left, grade II",
        "S93.4",
        "Hike on uneven trails again.",
        35,
        (
            ("Single-Leg Stance", hold(3, 30, 7)),
            ("Heel Raises", reps(3, 15)),
            ("Knee-to-Wall Ankle Mobilization", reps(2, 10, 7)),
        ),
        (avoid("No lateral hopping or cutting.", "ankle_foot"),),
        ("Ankle swelling that returns after training",),
        ((IRON_WORKS, Scope.GUIDELINES),),
        "on_hold",
        trainer=FULL,
        notes={"hold": "Noah is travelling for work for three weeks; sessions resume when he is back."},
    ),
    DemoPatient(
        "Chloe Martin",
        datetime.date(1958, 9, 5),
        PT2,
        "Total knee replacement, right, 4 months post-op",
        "Z96.65",
        "Walk 30 minutes and climb stairs step over step.",
        120,
        (
            ("Sit-to-Stand", reps(3, 10)),
            ("Straight Leg Raise", reps(3, 12)),
            ("Recumbent Stepper", minutes(15)),
        ),
        (
            {
                "kind": Kind.EFFORT_CAP,
                "limit_value": Decimal(6),
                "limit_unit": Unit.RPE,
                "detail": "Keep effort at RPE 6 or below.",
            },
            avoid("No kneeling on the operated knee.", "knee"),
        ),
        ("Calf pain, warmth or swelling (possible DVT)", "Fever or wound redness"),
        ((IRON_WORKS, Scope.WITH_DIAGNOSIS),),
        "completed",
        trainer=FULL,
        notes={"complete": "Twelve sessions done. Chloe walks 35 minutes and takes stairs step over step."},
    ),
    DemoPatient(
        "Liam O'Connor",
        datetime.date(1966, 12, 12),
        PT,
        "Primary osteoarthritis, right hip",
        "M16.1",
        "Keep playing golf; get in and out of the car easily.",
        84,
        (
            ("Clamshells", reps(3, 15, **BAND)),
            ("Box Squat to Bench", reps(3, 10)),
            ("90/90 Hip Switches", reps(2, 8, 5)),
        ),
        (pain_rule(4, "Hip pain up to 4/10 that settles by the next day is acceptable."),),
        ("Hip pain at night that wakes him",),
        ((IRON_WORKS, Scope.GUIDELINES),),
        "declined_then_reoffered",
        trainer=FULL,
        notes={"reject": "My caseload is full this month; Sam Rivera has space."},
    ),
    DemoPatient(
        "Ava Thompson",
        datetime.date(1988, 2, 27),
        PT2,
        "Mechanical neck pain",
        "M54.2",
        "Work a full day at the desk without neck pain.",
        28,
        (
            ("Chin Tucks", reps(3, 10, 7)),
            ("Upper Trapezius Stretch", hold(3, 30, 7)),
            ("Seated Cable Row", reps(3, 12, **kg("15"))),
        ),
        (avoid("No heavy overhead pressing or shrugs.", "neck"),),
        ("Dizziness, or pins and needles in both arms",),
        ((IRON_WORKS, Scope.GUIDELINES),),
        "cancelled",
        notes={"cancel": "Ava moved out of the area before her first session."},
    ),
    DemoPatient(
        "Lucas Moreau",
        datetime.date(1981, 7, 21),
        PT,
        "Plantar fasciitis, left foot",
        "M72.2",
        "Stand through a full work shift without heel pain.",
        21,
        (
            ("Standing Calf Stretch", hold(3, 30, 7)),
            ("Heel Raises", reps(3, 12)),
        ),
        (pain_rule(3, "First-step pain above 3/10 the next morning: reduce volume."),),
        ("Heel pain at rest or at night",),
        ((IRON_WORKS, Scope.GUIDELINES),),
        "draft",
    ),
    DemoPatient(
        "Sofia Rossi",
        datetime.date(1951, 10, 3),
        PT2,
        "Osteoporosis with balance deficits",
        "M81.0",
        "No falls; carry shopping bags home.",
        14,
        (
            ("Tandem Stance", hold(3, 30, 5)),
            ("Farmer Carry", reps(3, 10, **kg("4"))),
            ("Sit-to-Stand", reps(2, 10)),
        ),
        (
            avoid("No loaded spinal flexion (sit-ups, toe touches with weight).", "lumbar_spine"),
            load_limit("lumbar_spine", "8", "Carried or lifted loads up to 8 kg."),
        ),
        ("A fall, or sudden back pain after a minor bump",),
        BOTH_GYMS,
        "active",
    ),
    DemoPatient(
        "James Carter",
        datetime.date(1977, 5, 11),
        PT,
        "Subacromial impingement, left shoulder",
        "M75.4",
        "Swim front crawl for 30 minutes.",
        10,
        (
            ("Prone Y-T-W Raises", reps(2, 10)),
            ("Pec Doorway Stretch", hold(3, 30, 7)),
            ("Rowing Ergometer", minutes(15)),
        ),
        (
            {
                "kind": Kind.ROM_LIMIT,
                "body_region": "shoulder",
                "limit_value": Decimal(120),
                "limit_unit": Unit.DEGREES,
                "detail": "No loaded elevation above 120 degrees.",
            },
        ),
        ("Pain that spreads down the arm",),
        BOTH_GYMS,
        "active",
    ),
)


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
                services.certification_verify(certification=certification, actor=self.users[ADMIN])

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
        physio = self.users[scenario.physio]
        today = timezone.localdate()
        patient = services.patient_create(
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
        plan = services.plan_create(
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
            services.consent_record(patient=patient, gym=self.orgs[gym], scope=scope, actor=physio)
        self.created["patients"] += 1
        self._story(scenario.story)(plan, physio, scenario)

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
        handoff = services.plan_discharge(
            plan=plan, trainer=self.users[trainer], gym=self.gym_of[trainer], actor=physio
        )
        self.created["referrals"] += 1
        return handoff

    def _started(self, plan: TreatmentPlan, physio: User, trainer: str) -> TrainerHandoff:
        handoff = self._send(plan, physio, trainer)
        services.handoff_accept(handoff=handoff, actor=self.users[trainer])
        return services.handoff_start(handoff=handoff, actor=self.users[trainer])

    def _active(self, plan: TreatmentPlan, physio: User, scenario: DemoPatient) -> None:
        """Still in treatment at the clinic: no referral yet."""

    def _draft(self, plan: TreatmentPlan, physio: User, scenario: DemoPatient) -> None:
        trainer = scenario.trainer
        services.handoff_create(
            plan=plan, trainer=self.users[trainer], gym=self.gym_of[trainer], actor=physio
        )
        self.created["referrals"] += 1

    def _requested(self, plan: TreatmentPlan, physio: User, scenario: DemoPatient) -> None:
        self._send(plan, physio, scenario.trainer)

    def _accepted(self, plan: TreatmentPlan, physio: User, scenario: DemoPatient) -> None:
        handoff = self._send(plan, physio, scenario.trainer)
        services.handoff_accept(handoff=handoff, actor=self.users[scenario.trainer])

    def _in_progress(self, plan: TreatmentPlan, physio: User, scenario: DemoPatient) -> None:
        self._started(plan, physio, scenario.trainer)

    def _concern(self, plan: TreatmentPlan, physio: User, scenario: DemoPatient) -> None:
        handoff = self._started(plan, physio, scenario.trainer)
        services.handoff_raise_concern(
            handoff=handoff, actor=self.users[scenario.trainer], text=scenario.notes["concern"]
        )

    def _on_hold(self, plan: TreatmentPlan, physio: User, scenario: DemoPatient) -> None:
        handoff = self._started(plan, physio, scenario.trainer)
        services.handoff_hold(
            handoff=handoff, actor=self.users[scenario.trainer], reason=scenario.notes["hold"]
        )

    def _completed(self, plan: TreatmentPlan, physio: User, scenario: DemoPatient) -> None:
        handoff = self._started(plan, physio, scenario.trainer)
        services.handoff_complete(
            handoff=handoff, actor=self.users[scenario.trainer], summary=scenario.notes["complete"]
        )

    def _declined_then_reoffered(self, plan: TreatmentPlan, physio: User, scenario: DemoPatient) -> None:
        """The first trainer declines; the plan is offered to the other trainer, who accepts."""
        first = self._send(plan, physio, scenario.trainer)
        services.handoff_reject(
            handoff=first, actor=self.users[scenario.trainer], reason=scenario.notes["reject"]
        )
        other = TRAINER if scenario.trainer != TRAINER else FULL
        second = self._send(plan, physio, other)
        services.handoff_accept(handoff=second, actor=self.users[other])

    def _cancelled(self, plan: TreatmentPlan, physio: User, scenario: DemoPatient) -> None:
        handoff = self._send(plan, physio, scenario.trainer)
        services.handoff_cancel(handoff=handoff, actor=physio, reason=scenario.notes["cancel"])


def demo_password() -> str:
    return os.environ.get(ENV_NAME) or DEFAULT_DEMO_PASSWORD


class Command(BaseCommand):
    help = "Load idempotent demo data: a clinic, two partner gyms, their staff, 12 patients and referrals."

    def handle(self, *args: Any, **options: Any) -> None:
        if getattr(settings, "SETTINGS_MODULE", None) == "config.settings.production":
            raise CommandError("seed_demo creates a superuser with a published password: not in production.")
        password = demo_password()
        seeder = Seeder(password=password)
        with transaction.atomic():
            seeder.run()
        self._report(seeder, password)

    def _report(self, seeder: Seeder, password: str) -> None:
        out = self.stdout
        if seeder.created:
            made = ", ".join(f"{count} {name}" for name, count in sorted(seeder.created.items()))
            out.write(self.style.SUCCESS(f"Demo data created: {made}."))
        else:
            out.write(self.style.SUCCESS("Demo data was already there: nothing was changed."))
        if not check_password(password, seeder.users[PT].password):
            out.write(
                self.style.WARNING(
                    f"The demo users already existed with another password; {ENV_NAME} applies only "
                    "when they are created."
                )
            )
        out.write("")
        out.write(
            f"Open {settings.SITE_URL}/ and log in as one of these (a demo-only password, never use it "
            f"for real accounts; set {ENV_NAME} to choose another before the first run):"
        )
        out.write("")
        header = ("role", "email", "password", "what it shows")
        rows = [header, *((u.role, u.email, password, u.shows) for u in USERS)]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for role, email, shown_password, shows in rows:
            columns = (role.ljust(widths[0]), email.ljust(widths[1]), shown_password.ljust(widths[2]), shows)
            out.write("  " + "  ".join(columns))
