"""The demo world's data: organizations, people and patients with their stories."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, TypeVar

from django.db import models

from accounts.models import (
    Certification,
    Membership,
    Specialization,
)
from referrals.care.models import Consent, Precaution

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
class History:
    """What happened: `weeks` of training from the acceptance; the client missed every session of
    `missed_week` (0-based); in `spike_week`, the second session's pain after went above the plan's pain
    rule (the fast lane raised a concern); a report after `report_after_weeks`, acknowledged the next day."""

    weeks: int
    missed_week: int | None = None
    spike_week: int | None = None
    report_after_weeks: int | None = 4


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
    # Weeks of session logs before today (demo.history): the referral was sent and accepted that long ago.
    history: History | None = None


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
        history=History(weeks=6, missed_week=2),
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
        history=History(weeks=5, spike_week=3),
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
        history=History(weeks=8, missed_week=5),
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
