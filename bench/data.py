"""Builds the benchmark's data set with COPY: a regional network, its history, and what the run needs.

The measured users and their rows (the "focus" world) are the same at every volume, so the inbox holds
the same page at 1,000 handoffs and at 100,000: only the tables around it grow. Rows are generated in
plain tuples and streamed with COPY (no model instances, no per-row queries); ids are assigned here and
the sequences are moved past them at the end.
"""

from __future__ import annotations

import datetime
import json
import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.management.color import no_style
from django.db import connection
from django.db.models import Model

from accounts.models import (
    Certification,
    Membership,
    Organization,
    Partnership,
    PhysiotherapistProfile,
    TrainerProfile,
    User,
)
from referrals.care import services as care_services
from referrals.care.models import Consent, Patient, PlanExercise, TreatmentPlan
from referrals.handoffs.models import HandoffEvent, HandoffStatus, TrainerHandoff
from referrals.handoffs.snapshot import GUIDELINES_SCHEMA
from referrals.library.models import Exercise
from referrals.notify.models import HANDOFF_EVENT_KIND, Notification, OutboxMessage, event_source_key
from referrals.progress.models import SessionExercise, SessionLog
from referrals.timers import schedule as timers_schedule

S = HandoffStatus
CLINICS, GYMS, TRAINERS = 50, 200, 2_000
PHYSIOS_PER_CLINIC = 5
GYMS_PER_CLINIC = 20  # each clinic partners with 20 gyms; each gym with 5 clinics
HANDOFFS_PER_PATIENT = 5
FOCUS_CASELOAD = 30  # the measured trainer's open referrals: more than a page of 25
FOCUS_HISTORY = 30  # and as many closed ones
FOCUS_PT_LIST = 20  # the PT home's "declined or failed" and "waiting" lists show 20 rows each
FOCUS_HOLDS = 6  # hold/resume cycles on the measured handoff: a long timeline
# Session logs: each referral in progress or on hold has this many (make bench --sessions-per-referral),
# each with every prescribed exercise of its guidelines (SNAPSHOT_EXERCISES): about a million exercise rows
# at the full volume. The measured referrals (the focus world's in-progress ones) have as many at every
# volume, so the PT's progress page shows the same page at 1,000 handoffs as at 100,000.
SESSIONS_PER_REFERRAL = 20
SNAPSHOT_EXERCISES = 5
SESSION_STATUSES = frozenset({S.IN_PROGRESS, S.ON_HOLD})
BENCH_IDS = uuid.UUID("5b0e3c52-9d41-4f7a-8e2b-6a1c0d9f3e74")  # the snapshots' entry ids: uuid5 of this
PASSWORD = "!bench-unusable"  # noqa: S105 - an unusable password: nobody logs in with it

# Status mix of the history, and the path of transitions that leads to each status.
MIX: list[tuple[str, int]] = [
    (S.COMPLETED, 45),
    (S.IN_PROGRESS, 8),
    (S.ACCEPTED, 4),
    (S.REQUESTED, 4),
    (S.ON_HOLD, 2),
    (S.REJECTED, 10),
    (S.CANCELLED, 12),
    (S.FAILED, 5),
    (S.ENTERED_IN_ERROR, 1),
    (S.DRAFT, 9),
]
PATHS: dict[str, list[str]] = {
    S.DRAFT: [S.DRAFT],
    S.REQUESTED: [S.DRAFT, S.REQUESTED],
    S.ACCEPTED: [S.DRAFT, S.REQUESTED, S.ACCEPTED],
    S.IN_PROGRESS: [S.DRAFT, S.REQUESTED, S.ACCEPTED, S.IN_PROGRESS],
    S.ON_HOLD: [S.DRAFT, S.REQUESTED, S.ACCEPTED, S.IN_PROGRESS, S.ON_HOLD],
    S.COMPLETED: [S.DRAFT, S.REQUESTED, S.ACCEPTED, S.IN_PROGRESS, S.COMPLETED],
    S.REJECTED: [S.DRAFT, S.REQUESTED, S.REJECTED],
    S.CANCELLED: [S.DRAFT, S.REQUESTED, S.CANCELLED],
    S.FAILED: [S.DRAFT, S.REQUESTED, S.ACCEPTED, S.IN_PROGRESS, S.FAILED],
    S.ENTERED_IN_ERROR: [S.DRAFT, S.REQUESTED, S.ENTERED_IN_ERROR],
}
REASONS: dict[str, str] = {
    S.REJECTED: "Fully booked.",
    S.ON_HOLD: "Travelling.",
    S.CANCELLED: "Moved away.",
    S.FAILED: "Pain.",
}


@dataclass
class Network:
    """Who is who in the generated data (ids), for the rest of the benchmark."""

    clinics: list[int] = field(default_factory=list)
    gyms: list[int] = field(default_factory=list)
    physios: dict[int, list[int]] = field(default_factory=dict)  # clinic -> physio user ids
    trainers: dict[int, list[int]] = field(default_factory=dict)  # gym -> trainer user ids
    partners: dict[int, list[int]] = field(default_factory=dict)  # clinic -> gym ids
    handoffs: int = 0
    patients: int = 0
    focus_trainer: int = 0
    focus_quiet_trainer: int = 0
    focus_physio: int = 0
    focus_handoff: str = ""
    focus_short_handoff: str = ""
    focus_progress_handoff: str = ""  # in progress, its sessions logged: the PT's progress page
    focus_session_handoff: str = ""  # in progress: the session POSTs go here (the other stays as it was)
    focus_accepted_handoff: str = ""  # accepted, no session yet: the progress page's small size
    discharge_pool: list[dict[str, Any]] = field(default_factory=list)


class Loader:
    """Rows per model, streamed with COPY in big batches; explicit ids from per-table counters."""

    BATCH = 50_000

    def __init__(self) -> None:
        self.next_id: dict[type[Model], int] = {}
        self.pending: dict[type[Model], list[tuple[Any, ...]]] = {}
        self.columns: dict[type[Model], list[str]] = {}
        self.written: dict[type[Model], int] = {}

    def start(self, model: type[Model]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{model._meta.db_table}"')  # noqa: S608
            (top,) = cursor.fetchone() or (0,)
        self.next_id[model] = int(top) + 1

    def new_id(self, model: type[Model]) -> int:
        if model not in self.next_id:
            self.start(model)
        value = self.next_id[model]
        self.next_id[model] = value + 1
        return value

    def add(self, model: type[Model], columns: Sequence[str], row: tuple[Any, ...]) -> None:
        known = self.columns.setdefault(model, list(columns))
        assert known == list(columns), (model, columns)  # noqa: S101 - a programming error
        rows = self.pending.setdefault(model, [])
        rows.append(row)
        if len(rows) >= self.BATCH:
            self.flush()  # every model, parents first (the order they were first seen), for the foreign keys

    def flush(self, model: type[Model] | None = None) -> None:
        for each in [model] if model else list(self.pending):
            rows = self.pending.get(each) or []
            if not rows:
                continue
            names = ", ".join(f'"{c}"' for c in self.columns[each])
            with (
                connection.cursor() as cursor,
                cursor.copy(f'COPY "{each._meta.db_table}" ({names}) FROM STDIN') as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            self.written[each] = self.written.get(each, 0) + len(rows)
            self.pending[each] = []

    def finish(self) -> None:
        self.flush()
        models = list(self.next_id)
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(statement)
            for model in models:
                cursor.execute(f'ANALYZE "{model._meta.db_table}"')


USER_COLS = [
    "id",
    "password",
    "is_superuser",
    "public_id",
    "email",
    "full_name",
    "is_active",
    "is_staff",
    "date_joined",
]
ORG_COLS = ["id", "public_id", "name", "kind", "city", "email", "phone", "time_zone", "created_at"]
MEMBER_COLS = ["id", "user_id", "organization_id", "role", "created_at"]
PATIENT_COLS = [
    "id",
    "public_id",
    "clinic_id",
    "full_name",
    "date_of_birth",
    "email",
    "phone",
    "created_by_id",
    "created_at",
    "updated_at",
]
PLAN_COLS = [
    "id",
    "public_id",
    "patient_id",
    "physiotherapist_id",
    "diagnosis",
    "icd10_code",
    "goals",
    "start_date",
    "status",
    "discharged_at",
    "report_interval_weeks",
    "created_at",
    "updated_at",
]
# The dose columns are the service's own field list ("exercise" is the foreign key's column).
PLAN_EXERCISE_COLS = [
    "id",
    "public_id",
    "plan_id",
    "exercise_id",
    "position",
    *care_services.EXERCISE_FIELDS[1:],
]
CONSENT_COLS = [
    "id",
    "public_id",
    "patient_id",
    "gym_id",
    "scope",
    "recorded_by_id",
    "recorded_at",
    "withdrawn_at",
    "withdrawn_by_id",
    "withdrawal_reason",
]
HANDOFF_COLS = [
    "id",
    "public_id",
    "plan_id",
    "clinic_id",
    "trainer_id",
    "gym_id",
    "created_by_id",
    "status",
    "status_reason",
    "business_status",
    "consent_id",
    "snapshot",
    "sent_at",
    "care_since",
    "hold_review_on",
    "created_at",
    "updated_at",
]
EVENT_COLS = [
    "id",
    "public_id",
    "handoff_id",
    "kind",
    "actor_id",
    "from_status",
    "to_status",
    "text",
    "urgent",
    "created_at",
    "delivered_at",
]
SESSION_COLS = [f.column for f in SessionLog._meta.concrete_fields]
SESSION_EXERCISE_COLS = [f.column for f in SessionExercise._meta.concrete_fields]
NOTIFICATION_COLS = [
    "id",
    "public_id",
    "recipient_id",
    "event_id",
    "title",
    "urgent",
    "read_at",
    "created_at",
    "kind",
    "source_key",
    "handoff_id",
]
OUTBOX_COLS = [
    "id",
    "event_id",
    "recipient_id",
    "channel",
    "status",
    "attempts",
    "next_attempt_at",
    "lease_until",
    "claim_token",
    "last_error",
    "created_at",
    "sent_at",
    "kind",
    "source_key",
    "handoff_id",
]


class Builder:
    def __init__(self, seed: int = 7, sessions_per_referral: int = SESSIONS_PER_REFERRAL) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
        self.load = Loader()
        self.net = Network()
        self.now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
        self.exercises = list(
            Exercise.objects.order_by("id").values("id", "slug", "name", "category", "body_region")
        )
        self.snapshots: list[tuple[str, list[dict[str, Any]]]] = []
        self.sessions_per_referral = sessions_per_referral
        self.zone = timers_schedule.zone_named("")  # the organizations name no zone: the deployment's

    # --- the network ------------------------------------------------------------------------------------

    def _user(self, email: str, name: str) -> int:
        uid = self.load.new_id(User)
        self.load.add(
            User, USER_COLS, (uid, PASSWORD, False, uuid.uuid4(), email, name, True, False, self.now)
        )
        return uid

    def _org(self, name: str, kind: str) -> int:
        oid = self.load.new_id(Organization)
        self.load.add(
            Organization, ORG_COLS, (oid, uuid.uuid4(), name, kind, "Springfield", "", "", "", self.now)
        )
        return oid

    def _member(self, user: int, org: int, role: str) -> None:
        self.load.add(Membership, MEMBER_COLS, (self.load.new_id(Membership), user, org, role, self.now))

    def network(self) -> Network:
        net, load, today = self.net, self.load, self.now.date()
        for c in range(CLINICS):
            net.clinics.append(self._org(f"Bench Clinic {c:03d}", Organization.Kind.CLINIC))
        for g in range(GYMS):
            net.gyms.append(self._org(f"Bench Gym {g:03d}", Organization.Kind.GYM))
        for c, clinic in enumerate(net.clinics):
            net.partners[clinic] = [net.gyms[(c * 4 + k) % GYMS] for k in range(GYMS_PER_CLINIC)]
            for gym in net.partners[clinic]:
                load.add(
                    Partnership,
                    ["id", "clinic_id", "gym_id", "active", "started_on", "notes"],
                    (load.new_id(Partnership), clinic, gym, True, today, ""),
                )
            net.physios[clinic] = []
            for p in range(PHYSIOS_PER_CLINIC):
                uid = self._user(f"physio{c:03d}-{p}@bench.test", f"Physio {c:03d}-{p}")
                self._member(uid, clinic, Membership.Role.PHYSIOTHERAPIST)
                load.add(
                    PhysiotherapistProfile,
                    ["id", "user_id", "licence_number", "jurisdiction", "licence_expiry"],
                    (
                        load.new_id(PhysiotherapistProfile),
                        uid,
                        f"PT-{uid}",
                        "CA",
                        today + datetime.timedelta(days=700),
                    ),
                )
                net.physios[clinic].append(uid)
        per_gym = TRAINERS // GYMS
        for g, gym in enumerate(net.gyms):
            net.trainers[gym] = []
            for t in range(per_gym):
                uid = self._user(f"trainer{g:03d}-{t}@bench.test", f"Trainer {g:03d}-{t}")
                self._member(uid, gym, Membership.Role.TRAINER)
                profile = load.new_id(TrainerProfile)
                # the first gym's trainers receive the benchmark's discharges: room for all of them
                capacity = 500 if g < 4 else 40
                load.add(
                    TrainerProfile,
                    ["id", "user_id", "cpr_aed_expiry", "accepting_new_clients", "max_active_clients", "bio"],
                    (profile, uid, today + datetime.timedelta(days=400), True, capacity, ""),
                )
                load.add(
                    Certification,
                    ["id", "profile_id", "issuing_body", "other_body", "number", "expiry", "verified"],
                    (
                        load.new_id(Certification),
                        profile,
                        Certification.IssuingBody.NASM_CPT,
                        "",
                        f"N-{uid}",
                        today + datetime.timedelta(days=500),
                        True,
                    ),
                )
                net.trainers[gym].append(uid)
        clinic = net.clinics[0]
        net.focus_physio = net.physios[clinic][0]
        net.focus_trainer = net.trainers[net.gyms[0]][0]
        net.focus_quiet_trainer = net.trainers[net.gyms[0]][1]
        load.flush()
        return net

    # --- patients, plans, handoffs, events --------------------------------------------------------------

    def _template(self, k: int) -> dict[str, Any]:
        """One of 16 guidelines snapshots (the current shape, GUIDELINES_SCHEMA): the handoffs share them, and
        a session log names its exercises by their ids here."""
        items = [self.exercises[(k * 3 + j) % len(self.exercises)] for j in range(SNAPSHOT_EXERCISES)]
        ids = [str(uuid.uuid5(BENCH_IDS, f"{k}/exercise/{j}")) for j in range(len(items))]
        return {
            "schema": GUIDELINES_SCHEMA,
            "sent_at": self.now.isoformat(),
            "clinic": "Bench Clinic",
            "physiotherapist": "Physio",
            "physiotherapist_email": "physio@bench.test",
            "patient": {"name": f"Patient {k}", "email": "", "phone": "555-0100"},
            "consent_scope": "guidelines",
            "diagnosis": None,
            "goals": "Return to running 5 km without knee pain; stairs without a rail.",
            "exercises": [
                {
                    "id": ident,
                    "library_slug": e["slug"],
                    "name": e["name"],
                    "category": e["category"],
                    "body_region": e["body_region"],
                    "equipment": "",
                    "instructions": "Slow and controlled, full range of motion.",
                    "sets": 3,
                    "reps": 12,
                    "hold_seconds": None,
                    "duration_minutes": None,
                    "load_unit": "kg",
                    "load_value": "20.00",
                    "frequency_per_week": 3,
                    "tempo": "",
                    "rest_seconds": 60,
                    "notes": "",
                    "progression_note": "Add 5% load weekly.",
                    "dose": "3 x 12 at 20 kg, 3 times a week",
                    "_exercise_pk": e["id"],
                }
                for ident, e in zip(ids, items, strict=True)
            ],
            "precautions": [
                {
                    "id": str(uuid.uuid5(BENCH_IDS, f"{k}/precaution/0")),
                    "kind": "avoid_movement",
                    "kind_label": "Avoid movement",
                    "body_region": "Knee",
                    "limit_value": None,
                    "limit_unit": "",
                    "weight_bearing": "",
                    "valid_until": None,
                    "detail": "No deep squats past 90 degrees.",
                    "summary": "Avoid deep knee flexion",
                }
            ],
            "red_flags": [
                {
                    "id": str(uuid.uuid5(BENCH_IDS, f"{k}/red_flag/0")),
                    "description": "Swelling or heat in the knee after training",
                }
            ],
        }

    def _snapshot(self, n: int) -> tuple[str, list[dict[str, Any]]]:
        """The snapshot's JSON for handoff n, and its exercises (for the session logs)."""
        if not self.snapshots:
            for k in range(16):
                template = self._template(k)
                exercises = template["exercises"]
                stored = {**template, "exercises": [{**e} for e in exercises]}
                for e in stored["exercises"]:
                    del e["_exercise_pk"]
                self.snapshots.append((json.dumps(stored), exercises))
        return self.snapshots[n % len(self.snapshots)]

    def _patient(self, clinic: int, physio: int, stamp: datetime.datetime) -> int:
        pid = self.load.new_id(Patient)
        self.net.patients += 1
        self.load.add(
            Patient,
            PATIENT_COLS,
            (
                pid,
                uuid.uuid4(),
                clinic,
                f"Patient {pid}",
                datetime.date(1960 + pid % 45, 1 + pid % 12, 1 + pid % 28),
                "",
                "555-0100",
                physio,
                stamp,
                stamp,
            ),
        )
        return pid

    def _plan(self, patient: int, physio: int, status: str, stamp: datetime.datetime) -> int:
        plan = self.load.new_id(TreatmentPlan)
        discharged = stamp if status == TreatmentPlan.Status.DISCHARGED else None
        self.load.add(
            TreatmentPlan,
            PLAN_COLS,
            (
                plan,
                uuid.uuid4(),
                patient,
                physio,
                "Patellofemoral pain, right knee.",
                "M22.2",
                "Return to running 5 km without knee pain; stairs without a rail.",
                stamp.date(),
                status,
                discharged,
                4,
                stamp,
                stamp,
            ),
        )
        for position in range(2):
            exercise = self.exercises[(plan + position) % len(self.exercises)]["id"]
            self.load.add(
                PlanExercise,
                PLAN_EXERCISE_COLS,
                (
                    self.load.new_id(PlanExercise),
                    uuid.uuid4(),
                    plan,
                    exercise,
                    position,
                    3,
                    12,
                    None,
                    None,
                    "",
                    None,
                    3,
                    "",
                    60,
                    "",
                    "",
                ),
            )
        return plan

    def _consent(self, patient: int, gym: int, physio: int, stamp: datetime.datetime) -> int:
        cid = self.load.new_id(Consent)
        self.load.add(
            Consent,
            CONSENT_COLS,
            (cid, uuid.uuid4(), patient, gym, Consent.Scope.GUIDELINES, physio, stamp, None, None, ""),
        )
        return cid

    def _handoff(
        self,
        *,
        plan: int,
        clinic: int,
        trainer: int,
        gym: int,
        physio: int,
        consent: int,
        path: list[str],
        start: datetime.datetime,
        extra_holds: int = 0,
    ) -> str:
        load = self.load
        hid = load.new_id(TrainerHandoff)
        public_id = uuid.uuid4()
        status = path[-1]
        steps = list(path)
        if extra_holds:
            steps += [S.ON_HOLD, S.IN_PROGRESS] * extra_holds
            status = steps[-1]
        sent = status != S.DRAFT
        stamps = [start + datetime.timedelta(hours=6 * k) for k in range(len(steps))]
        self.net.handoffs += 1
        snapshot, prescribed = self._snapshot(hid)
        first_session = start + datetime.timedelta(days=1)
        session_days = self._session_days(first_session) if status in SESSION_STATUSES else []
        care_since, hold_review_on = self._timer_fields(status, stamps[-1], session_days)
        load.add(
            TrainerHandoff,
            HANDOFF_COLS,
            (
                hid,
                public_id,
                plan,
                clinic,
                trainer,
                gym,
                physio,
                status,
                REASONS.get(status, ""),
                "",
                consent if sent else None,
                snapshot if sent else None,
                stamps[1] if sent else None,
                care_since,
                hold_review_on,
                stamps[0],
                stamps[-1],
            ),
        )
        previous = ""
        for to, at in zip(steps, stamps, strict=True):
            actor = physio if to in (S.DRAFT, S.REQUESTED, S.CANCELLED, S.ENTERED_IN_ERROR) else trainer
            event = load.new_id(HandoffEvent)
            recipient = None if to == S.DRAFT else trainer if actor == physio else physio
            load.add(
                HandoffEvent,
                EVENT_COLS,
                (
                    event,
                    uuid.uuid4(),
                    hid,
                    HandoffEvent.Kind.TRANSITION,
                    actor,
                    previous,
                    to,
                    REASONS.get(to, ""),
                    False,
                    at,
                    at if recipient else None,
                ),
            )
            if recipient is not None:
                load.add(
                    Notification,
                    NOTIFICATION_COLS,
                    (
                        load.new_id(Notification),
                        uuid.uuid4(),
                        recipient,
                        event,
                        f"A referral changed: {to}",
                        False,
                        at + datetime.timedelta(hours=1),
                        at,
                        HANDOFF_EVENT_KIND,
                        event_source_key(event),
                        hid,
                    ),
                )
                load.add(
                    OutboxMessage,
                    OUTBOX_COLS,
                    (
                        load.new_id(OutboxMessage),
                        event,
                        recipient,
                        OutboxMessage.Channel.EMAIL,
                        OutboxMessage.Status.SENT,
                        1,
                        at,
                        None,
                        None,
                        "",
                        at,
                        at,
                        HANDOFF_EVENT_KIND,
                        event_source_key(event),
                        hid,
                    ),
                )
            previous = to
        if session_days:
            self._sessions(hid, trainer, prescribed, first_session, session_days)
        return str(public_id)

    def _timer_fields(
        self, status: str, moved_at: datetime.datetime, session_days: list[datetime.date]
    ) -> tuple[datetime.date | None, datetime.date | None]:
        """(care_since, hold_review_on) as the lifecycle leaves them (handoffs.lifecycle `_set_timer_fields`
        and `handoff_care_seen`): accepted or in progress, the later of the day it moved into its status (the
        clinic's calendar) and its last session's day; on hold, reviewed the default hold review days after
        it was put on hold (no bench clinic has timers of its own); neither in any other status."""
        day = moved_at.astimezone(self.zone).date()
        if status in (S.ACCEPTED, S.IN_PROGRESS):
            return max([day, *session_days]), None
        if status == S.ON_HOLD:
            return None, day + datetime.timedelta(days=timers_schedule.hold_review_days())
        return None, None

    def _session_days(self, first: datetime.datetime) -> list[datetime.date]:
        """The days of a referral's session logs, every two or three days from `first`, up to today (a
        recent referral: the sessions so far)."""
        today = self.now.date()
        days = [
            (first + datetime.timedelta(days=2 * n + n // 3)).date()
            for n in range(self.sessions_per_referral)
        ]
        return [day for day in days if day <= today]

    def _sessions(
        self,
        handoff: int,
        trainer: int,
        prescribed: list[dict[str, Any]],
        first: datetime.datetime,
        days: list[datetime.date],
    ) -> None:
        """The referral's session logs on `days` (`_session_days`): one in ten missed, the load rising, each
        prescribed exercise as done (the dose the trainer's form prefills)."""
        load = self.load
        for n, day in enumerate(days):
            attended = n % 10 != 9
            session = load.new_id(SessionLog)
            load.add(
                SessionLog,
                SESSION_COLS,
                (
                    session,
                    uuid.uuid4(),
                    handoff,
                    day,
                    SessionLog.Attendance.ATTENDED if attended else SessionLog.Attendance.NO_SHOW,
                    4 + n % 4 if attended else None,
                    3 - n * 3 // self.sessions_per_referral if attended else None,
                    2 if attended else None,
                    None,
                    35 + 5 * (n % 5) if attended else None,
                    "[]",
                    "",
                    None,
                    trainer,
                    first + datetime.timedelta(days=2 * n + n // 3, hours=2),
                ),
            )
            if not attended:
                continue
            for position, item in enumerate(prescribed):
                load.add(
                    SessionExercise,
                    SESSION_EXERCISE_COLS,
                    (
                        load.new_id(SessionExercise),
                        session,
                        position,
                        item["id"],
                        item["_exercise_pk"],
                        item["name"],
                        True,
                        3,
                        12,
                        None,
                        None,
                        "kg",
                        20 + n // 2,
                    ),
                )

    def focus(self) -> None:
        """The measured users' rows: identical at every volume."""
        net = self.net
        clinic, gym = net.clinics[0], net.gyms[0]
        physio, trainer = net.focus_physio, net.focus_trainer
        start = self.now - datetime.timedelta(days=120)
        caseload = [S.REQUESTED, S.ACCEPTED, S.IN_PROGRESS]
        closed = [S.COMPLETED, S.REJECTED, S.CANCELLED]
        for k in range(FOCUS_CASELOAD + FOCUS_HISTORY):
            at = start + datetime.timedelta(days=k)
            patient = self._patient(clinic, physio, at)
            plan = self._plan(patient, physio, TreatmentPlan.Status.DISCHARGED, at)
            consent = self._consent(patient, gym, physio, at)
            status = caseload[k % 3] if k < FOCUS_CASELOAD else closed[k % 3]
            holds = FOCUS_HOLDS if k == 2 else 0  # an in-progress one with a long timeline
            public_id = self._handoff(
                plan=plan,
                clinic=clinic,
                trainer=trainer,
                gym=gym,
                physio=physio,
                consent=consent,
                path=PATHS[status],
                start=at,
                extra_holds=holds,
            )
            if holds:
                net.focus_handoff = public_id
            if k == 0:
                net.focus_short_handoff = public_id
            if k == 1:
                net.focus_accepted_handoff = public_id
            if k == 5:
                net.focus_progress_handoff = public_id
            if k == 8:
                net.focus_session_handoff = public_id
        # The PT home's lists full at every volume: 20 declined referrals (attention) and 20 waiting ones, to
        # the gym's other trainers, so the page shows the same rows at 1,000 handoffs as at 100,000.
        others = net.trainers[gym][2:]
        for k in range(2 * FOCUS_PT_LIST):
            at = start + datetime.timedelta(days=k, hours=12)
            patient = self._patient(clinic, physio, at)
            plan = self._plan(patient, physio, TreatmentPlan.Status.DISCHARGED, at)
            consent = self._consent(patient, gym, physio, at)
            self._handoff(
                plan=plan,
                clinic=clinic,
                trainer=others[k % len(others)],
                gym=gym,
                physio=physio,
                consent=consent,
                path=PATHS[S.REJECTED if k < FOCUS_PT_LIST else S.REQUESTED],
                start=at,
            )
        for k in range(2):  # the other trainer of the gym: a short inbox, for the query counts
            at = start + datetime.timedelta(days=k)
            patient = self._patient(clinic, physio, at)
            plan = self._plan(patient, physio, TreatmentPlan.Status.DISCHARGED, at)
            consent = self._consent(patient, gym, physio, at)
            self._handoff(
                plan=plan,
                clinic=clinic,
                trainer=net.focus_quiet_trainer,
                gym=gym,
                physio=physio,
                consent=consent,
                path=PATHS[S.REQUESTED],
                start=at,
            )

    def discharge_pool(self, count: int) -> None:
        """Active plans of the focus clinic, each with consent for a trainer's gym: one per discharge."""
        net = self.net
        clinic = net.clinics[0]
        gyms = net.partners[clinic][:4]
        targets = [(gym, t) for gym in gyms for t in net.trainers[gym] if t != net.focus_trainer]
        gym_ids = dict(Organization.objects.filter(pk__in=gyms).values_list("pk", "public_id"))
        trainer_ids = dict(User.objects.filter(pk__in=[t for _, t in targets]).values_list("pk", "public_id"))
        at = self.now - datetime.timedelta(days=1)
        plans: list[tuple[int, int, int]] = []
        for k in range(count):
            gym, trainer = targets[k % len(targets)]
            physio = net.physios[clinic][k % PHYSIOS_PER_CLINIC]
            patient = self._patient(clinic, physio, at)
            plans.append((self._plan(patient, physio, TreatmentPlan.Status.ACTIVE, at), trainer, gym))
            self._consent(patient, gym, physio, at)
        self.load.flush()
        plan_ids = dict(
            TreatmentPlan.objects.filter(pk__in=[p for p, _, _ in plans]).values_list("pk", "public_id")
        )
        net.discharge_pool = [
            {"plan": str(plan_ids[p]), "trainer": str(trainer_ids[t]), "gym": str(gym_ids[g])}
            for p, t, g in plans
        ]

    def history(self, until: int) -> None:
        """Filler handoffs across the whole network until there are `until` in all."""
        net, rng = self.net, self.rng
        statuses = [s for s, _ in MIX]
        weights = [w for _, w in MIX]
        span = 3 * 365 * 24 * 3600
        while net.handoffs < until:
            clinic = net.clinics[rng.randrange(CLINICS)]
            physio = net.physios[clinic][rng.randrange(PHYSIOS_PER_CLINIC)]
            at = self.now - datetime.timedelta(seconds=rng.randrange(span) + 7 * 24 * 3600)
            patient = self._patient(clinic, physio, at)
            first = rng.randrange(GYMS_PER_CLINIC)
            for k in range(min(HANDOFFS_PER_PATIENT, until - net.handoffs)):
                gym = net.partners[clinic][(first + k) % GYMS_PER_CLINIC]
                trainers = [t for t in net.trainers[gym] if t != net.focus_trainer]
                trainer = trainers[rng.randrange(len(trainers))]
                status = rng.choices(statuses, weights)[0]
                stamp = at + datetime.timedelta(days=30 * k)
                plan = self._plan(patient, physio, TreatmentPlan.Status.DISCHARGED, stamp)
                consent = self._consent(patient, gym, physio, stamp)
                self._handoff(
                    plan=plan,
                    clinic=clinic,
                    trainer=trainer,
                    gym=gym,
                    physio=physio,
                    consent=consent,
                    path=PATHS[status],
                    start=stamp,
                )
        self.load.flush()

    def finish(self) -> None:
        self.load.finish()


def table_counts(models: Iterable[type[Model]]) -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in models}


COUNTED: list[type[Model]] = [
    Organization,
    User,
    Patient,
    TreatmentPlan,
    TrainerHandoff,
    HandoffEvent,
    Notification,
    OutboxMessage,
    SessionLog,
    SessionExercise,
]
