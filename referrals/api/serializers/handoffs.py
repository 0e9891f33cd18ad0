"""Serializers of referrals, their guidelines snapshot, events and the trainer directory."""

from __future__ import annotations

import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Certification, Membership, Specialization, User
from referrals import access as referrals_access
from referrals.api.serializers.common import (
    AwareDateTimeField,
    OrganizationRefSerializer,
    PersonRefSerializer,
)
from referrals.api.serializers.concerns import ConcernSerializer
from referrals.care.models import (
    Consent,
)
from referrals.handoffs import policies as handoffs_policies
from referrals.handoffs import snapshot as handoffs_snapshot
from referrals.handoffs.models import REASON_MAX_LENGTH, HandoffEvent, HandoffStatus, TrainerHandoff
from referrals.handoffs.refer_back import NOTE_MAX_LENGTH as REFER_BACK_NOTE_MAX_LENGTH


class CertificationSerializer(serializers.Serializer[Certification]):
    issuing_body = serializers.ChoiceField(choices=Certification.IssuingBody.choices)
    expiry = serializers.DateField()
    verified = serializers.BooleanField()


class TrainerSerializer(serializers.Serializer[Membership]):
    """One trainer at one gym."""

    id = serializers.UUIDField(source="user.public_id")
    full_name = serializers.CharField(source="user.full_name")
    gym = OrganizationRefSerializer(source="organization")
    accepting_new_clients = serializers.SerializerMethodField()
    specializations = serializers.SerializerMethodField()
    certifications = serializers.SerializerMethodField()
    cpr_aed_expiry = serializers.SerializerMethodField()
    bio = serializers.SerializerMethodField()

    def _profile(self, membership: Membership) -> Any:
        return getattr(membership.user, "trainer_profile", None)

    def get_accepting_new_clients(self, membership: Membership) -> bool:
        profile = self._profile(membership)
        return bool(profile and profile.accepting_new_clients)

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=Specialization.choices)))
    def get_specializations(self, membership: Membership) -> list[str]:
        profile = self._profile(membership)
        return [s.specialization for s in profile.specializations.all()] if profile else []

    @extend_schema_field(CertificationSerializer(many=True))
    def get_certifications(self, membership: Membership) -> list[dict[str, Any]]:
        profile = self._profile(membership)
        if profile is None:
            return []
        return [
            {"issuing_body": c.issuing_body, "expiry": c.expiry.isoformat(), "verified": c.verified}
            for c in profile.certifications.all()
        ]

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_cpr_aed_expiry(self, membership: Membership) -> str | None:
        profile = self._profile(membership)
        expiry = profile.cpr_aed_expiry if profile else None
        return expiry.isoformat() if expiry else None

    def get_bio(self, membership: Membership) -> str:
        profile = self._profile(membership)
        return profile.bio if profile else ""


class TrainerQuerySerializer(serializers.Serializer[Any]):
    specialization = serializers.ChoiceField(choices=Specialization.choices, required=False)
    gym = serializers.UUIDField(required=False, help_text="A gym's id.")
    accepting = serializers.BooleanField(required=False)


# --- handoffs ------------------------------------------------------------------------------------------


class SnapshotExerciseSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(help_text="This prescribed exercise, the same in every snapshot of it.")
    library_slug = serializers.CharField(
        allow_blank=True, help_text="Its library entry's slug; empty in guidelines sent before slugs existed."
    )
    name = serializers.CharField()
    category = serializers.CharField()
    body_region = serializers.CharField()
    equipment = serializers.CharField(allow_blank=True)
    instructions = serializers.CharField(allow_blank=True)
    sets = serializers.IntegerField()
    reps = serializers.IntegerField(allow_null=True)
    hold_seconds = serializers.IntegerField(allow_null=True)
    duration_minutes = serializers.IntegerField(allow_null=True)
    load_unit = serializers.CharField(allow_blank=True)
    load_value = serializers.CharField(allow_null=True)
    frequency_per_week = serializers.IntegerField()
    tempo = serializers.CharField(allow_blank=True)
    rest_seconds = serializers.IntegerField(allow_null=True)
    notes = serializers.CharField(allow_blank=True)
    progression_note = serializers.CharField(allow_blank=True)
    dose = serializers.CharField()


class SnapshotPrecautionSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(help_text="This precaution, the same in every snapshot of it.")
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    body_region = serializers.CharField(allow_blank=True)
    limit_value = serializers.CharField(allow_null=True)
    limit_unit = serializers.CharField(allow_blank=True)
    weight_bearing = serializers.CharField(allow_blank=True)
    valid_until = serializers.CharField(allow_null=True)
    detail = serializers.CharField(allow_blank=True)
    summary = serializers.CharField()


class SnapshotRedFlagSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(help_text="This red flag, the same in every snapshot of it.")
    description = serializers.CharField()


class SnapshotPatientSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    email = serializers.CharField(allow_blank=True)
    phone = serializers.CharField(allow_blank=True)


class SnapshotDiagnosisSerializer(serializers.Serializer[Any]):
    text = serializers.CharField()
    icd10_code = serializers.CharField(allow_blank=True)


class GuidelinesSerializer(serializers.Serializer[Any]):
    """What was sent to the trainer, frozen at send time. `diagnosis` is null unless consent covers it."""

    sent_at = serializers.CharField()
    clinic = serializers.CharField()
    physiotherapist = serializers.CharField()
    physiotherapist_email = serializers.CharField(allow_blank=True)
    patient = SnapshotPatientSerializer()
    consent_scope = serializers.ChoiceField(choices=Consent.Scope.choices)
    diagnosis = SnapshotDiagnosisSerializer(allow_null=True)
    goals = serializers.CharField(allow_blank=True)
    exercises = SnapshotExerciseSerializer(many=True)
    precautions = SnapshotPrecautionSerializer(many=True)
    red_flags = serializers.SerializerMethodField(help_text="The red flags' descriptions (`red_flag_items`).")
    red_flag_items = SnapshotRedFlagSerializer(
        many=True, source="red_flags", help_text="The red flags with their ids, in the order of `red_flags`."
    )

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_red_flags(self, guidelines: dict[str, Any]) -> list[str]:
        return [str(flag["description"]) for flag in guidelines["red_flags"]]


# Stateless once built: to_representation only reads the fields.
_GUIDELINES = GuidelinesSerializer()


class HandoffSerializer(serializers.Serializer[TrainerHandoff]):
    """A handoff as the requesting user may see it. The clinic sees its plan and patient; a trainer sees
    only the frozen guidelines (`guidelines`), and only while consent stands and the referral is theirs."""

    id = serializers.UUIDField(source="public_id")
    status = serializers.ChoiceField(choices=HandoffStatus.choices)
    status_reason = serializers.CharField(allow_blank=True)
    business_status = serializers.CharField(
        allow_blank=True,
        help_text='A finer state (FHIR Task.businessStatus): "referred-back" while the client is back with '
        "the physiotherapist; empty otherwise.",
    )
    url = serializers.SerializerMethodField(help_text="This handoff.")
    role = serializers.SerializerMethodField(help_text="clinic or trainer: the side you act for.")
    clinic = serializers.SerializerMethodField()
    physiotherapist = serializers.SerializerMethodField(
        help_text="The referring physiotherapist's name; empty for a trainer without consent."
    )
    trainer = PersonRefSerializer()
    gym = OrganizationRefSerializer()
    plan = serializers.SerializerMethodField(help_text="The plan's id; null for the trainer.")
    patient = serializers.SerializerMethodField(help_text="The patient's id; null for the trainer.")
    patient_name = serializers.SerializerMethodField()
    sent_at = serializers.DateTimeField(allow_null=True)
    hold_review_on = serializers.DateField(
        allow_null=True,
        help_text="On hold: the day it is to be reviewed (the trainer is asked to resume or close it, then "
        "the clinic is told); null in every other status and for a client referred back.",
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    guidelines = serializers.SerializerMethodField(
        help_text="The frozen guidelines; null before sending, and for a trainer without consent."
    )

    def _is_clinic(self, handoff: TrainerHandoff) -> bool:
        return referrals_access.is_clinic_physio(self.context["request"].user, handoff.plan.patient.clinic_id)

    def _view(self, handoff: TrainerHandoff) -> handoffs_snapshot.HandoffView:
        """What consent lets the requesting user see of this handoff (policies.handoff_shown)."""
        return handoffs_snapshot.handoff_view_for_user(
            user=self.context["request"].user, handoff=handoff, surface=handoffs_policies.Surface.API_DETAIL
        )

    @extend_schema_field(serializers.ChoiceField(choices=["clinic", "trainer"]))
    def get_role(self, handoff: TrainerHandoff) -> str:
        return "clinic" if self._is_clinic(handoff) else "trainer"

    def get_clinic(self, handoff: TrainerHandoff) -> str:
        return self._view(handoff).clinic

    @extend_schema_field(serializers.URLField())
    def get_url(self, handoff: TrainerHandoff) -> str:
        return str(
            self.context["request"].build_absolute_uri(
                reverse("api:handoff_detail", args=[str(handoff.public_id)])
            )
        )

    def get_physiotherapist(self, handoff: TrainerHandoff) -> str:
        return self._view(handoff).physiotherapist

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_plan(self, handoff: TrainerHandoff) -> str | None:
        return str(handoff.plan.public_id) if self._is_clinic(handoff) else None

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_patient(self, handoff: TrainerHandoff) -> str | None:
        return str(handoff.plan.patient.public_id) if self._is_clinic(handoff) else None

    def get_patient_name(self, handoff: TrainerHandoff) -> str:
        return self._view(handoff).patient_name

    @extend_schema_field(GuidelinesSerializer(allow_null=True))
    def get_guidelines(self, handoff: TrainerHandoff) -> dict[str, Any] | None:
        guidelines = self._view(handoff).guidelines
        if guidelines is None:
            return None
        # One serializer for every row: building a nested serializer per row (deep-copying its fields)
        # cost more than the rest of a list page together (make bench, docs/benchmarks.md). Kept (issue
        # 14): 0.03 ms a snapshot against 0.87 ms with a new one (in-process); tests/api/test_shortcuts.py
        # checks the two give the same.
        return dict(_GUIDELINES.to_representation(guidelines))


def _when(value: datetime.datetime | None, tz: datetime.tzinfo) -> str | None:
    """serializers.DateTimeField's output (ISO 8601 in the current time zone, "Z" for UTC), minus its
    per-call lookups: a list formats three dates a row.

    Kept (issue 14): 1.6 us a date against DRF's 14.6 us (in-process), some 3.9 ms of a 100-row page;
    tests/api/test_shortcuts.py checks it gives DRF's output, in three zones, on both databases."""
    if value is None:
        return None
    text = value.astimezone(tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class HandoffSummarySerializer(serializers.Serializer[Any]):
    """A row of the handoffs list: who, where, what status and when, and the patient's name as you may
    see it. The guidelines are in the handoff's detail (`url`)."""

    # Built from plain values by rows(), not from model instances: the fields document the shape.

    id = serializers.UUIDField(read_only=True)
    url = serializers.URLField(read_only=True, help_text="The handoff: its detail, with the guidelines.")
    status = serializers.ChoiceField(choices=HandoffStatus.choices, read_only=True)
    status_reason = serializers.CharField(read_only=True, allow_blank=True)
    role = serializers.ChoiceField(
        choices=["clinic", "trainer"], read_only=True, help_text="clinic or trainer: the side you act for."
    )
    clinic = serializers.CharField(read_only=True, help_text="The referring clinic's name.")
    physiotherapist = serializers.CharField(
        read_only=True,
        allow_blank=True,
        help_text="The referring physiotherapist's name; empty for a trainer without consent.",
    )
    trainer = PersonRefSerializer(read_only=True)
    gym = OrganizationRefSerializer(read_only=True)
    plan = serializers.UUIDField(
        read_only=True, allow_null=True, help_text="The plan's id; null for the trainer."
    )
    patient = serializers.UUIDField(
        read_only=True, allow_null=True, help_text="The patient's id; null for the trainer."
    )
    patient_name = serializers.CharField(
        read_only=True, allow_blank=True, help_text="Empty for a trainer without consent."
    )
    sent_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    @staticmethod
    def rows(values: list[dict[str, Any]], *, user: User, detail_url: str) -> list[dict[str, Any]]:
        """The list's rows from `handoff_summary_list_for_user`. `detail_url` is a handoff's URL with
        `{id}` for its id, formatted once per row instead of a reverse() per row.

        Kept (issue 14): plain values made into dicts, no serializer per instance: `make bench` 2026-12-02,
        the inbox API in 2 queries at 1.53x its one-query baseline (paired rounds, machine at load 10;
        1.38x on a quiet one), the detail through HandoffSerializer at 2.65x. tests/api/test_shortcuts.py
        checks each row says what the detail's serializer says, URL included, on both databases."""
        out = []
        tz = timezone.get_current_timezone()
        own = {"id": str(getattr(user, "public_id", "")), "full_name": getattr(user, "full_name", "")}
        for row in values:
            clinic_side = referrals_access.is_clinic_physio(user, row["clinic_id"])
            public_id = str(row["public_id"])
            item: dict[str, Any] = {
                "id": public_id,
                "url": detail_url.format(id=public_id),
                "status": row["status"],
                "status_reason": row["status_reason"],
                "role": "clinic" if clinic_side else "trainer",
                "clinic": "",
                "physiotherapist": "",
                # without the trainer columns, every row is the user's own as the trainer (the selector)
                "trainer": (
                    {"id": str(row["trainer__public_id"]), "full_name": row["trainer__full_name"]}
                    if "trainer__public_id" in row
                    else own
                ),
                "gym": {"id": str(row["gym__public_id"]), "name": row["gym__name"]},
                "plan": None,
                "patient": None,
                "patient_name": "",
                "sent_at": _when(row["sent_at"], tz),
                "created_at": _when(row["created_at"], tz),
                "updated_at": _when(row["updated_at"], tz),
            }
            view = handoffs_snapshot.handoff_summary_view_for_user(
                user=user, row=row, surface=handoffs_policies.Surface.API_LIST
            )
            item["clinic"] = view.clinic
            item["physiotherapist"] = view.physiotherapist
            item["patient_name"] = view.patient_name
            if clinic_side:
                item["plan"] = str(row["plan__public_id"])
                item["patient"] = str(row["plan__patient__public_id"])
            out.append(item)
        return out


class HandoffInputSerializer(serializers.Serializer[Any]):
    plan = serializers.UUIDField()
    trainer = serializers.UUIDField(help_text="The trainer's id (from the trainers directory).")
    gym = serializers.UUIDField(help_text="The gym's id.")
    send = serializers.BooleanField(
        default=False, help_text="Send at once (discharge the patient to the trainer), all or nothing."
    )


class ReasonInputSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH, allow_blank=False)


class HoldInputSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH, allow_blank=False)
    review_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="The day to review the hold: after today, within 180 days. Omitted or null: the clinic's "
        "default (14 days unless its admin set otherwise).",
    )


class HoldReviewInputSerializer(serializers.Serializer[Any]):
    review_on = serializers.DateField(help_text="The new review date: after today, within 180 days.")


class OptionalReasonInputSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH, required=False, allow_blank=True)


class CompleteInputSerializer(serializers.Serializer[Any]):
    summary = serializers.CharField(max_length=REASON_MAX_LENGTH, required=False, allow_blank=True)


class ReofferInputSerializer(serializers.Serializer[Any]):
    trainer = serializers.UUIDField(help_text="The other trainer's id (GET /api/v1/trainers/).")
    gym = serializers.UUIDField(help_text="Their partner gym's id.")


class ReferBackInputSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(
        max_length=REFER_BACK_NOTE_MAX_LENGTH,
        allow_blank=False,
        help_text='Why the client goes back; the status reason becomes "Referred back to the '
        'physiotherapist: <note>".',
    )
    end = serializers.BooleanField(
        required=False,
        default=False,
        help_text="End the referral (failed). A referral in progress otherwise goes on hold; an accepted "
        "one or one on hold always fails.",
    )


class EventActorSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(
        allow_null=True,
        help_text="Null when consent no longer lets you see who at the clinic it was, and for the system.",
    )
    full_name = serializers.CharField(
        help_text='The person, the clinic\'s name when consent hides them, or "Handoff (automatic)" when the '
        "system did it (a timer)."
    )


class HandoffEventSerializer(serializers.Serializer[HandoffEvent]):
    """One row of a timeline. Who acted is named as the one consent rule allows (context `view`: the
    handoff as `selectors.handoff_view_for_user` shows it to the asker, as on the page)."""

    id = serializers.UUIDField(source="public_id")
    kind = serializers.ChoiceField(choices=HandoffEvent.Kind.choices)
    actor = serializers.SerializerMethodField()
    from_status = serializers.CharField(allow_blank=True)
    to_status = serializers.CharField(allow_blank=True)
    text = serializers.CharField(allow_blank=True)
    urgent = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    concern = serializers.SerializerMethodField(
        help_text="On a concern: where it stands now (acknowledge and resolve it by its id)."
    )
    regarding = serializers.SerializerMethodField(
        help_text="On an acknowledgement or a resolution: the id of the concern it answers."
    )
    report = serializers.SerializerMethodField(
        help_text="On a report submitted, acknowledged or replied to: the report's id "
        "(GET /api/v1/reports/<id>/, for whoever may see the referral's progress)."
    )

    @extend_schema_field(EventActorSerializer())
    def get_actor(self, event: HandoffEvent) -> dict[str, Any]:
        view = self.context["view_of_handoff"]
        if event.actor is not None and view.names_actor(event):
            return {"id": str(event.actor.public_id), "full_name": event.actor.full_name}
        return {"id": None, "full_name": view.actor_name(event)}  # the clinic, or "Handoff (automatic)"

    @extend_schema_field(ConcernSerializer(allow_null=True))
    def get_concern(self, event: HandoffEvent) -> dict[str, Any] | None:
        concern = getattr(event, "concern", None) if event.kind == HandoffEvent.Kind.CONCERN else None
        return dict(ConcernSerializer(concern).data) if concern is not None else None

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_regarding(self, event: HandoffEvent) -> str | None:
        return str(event.regarding.public_id) if event.regarding_id is not None and event.regarding else None

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_report(self, event: HandoffEvent) -> str | None:
        return str(event.report.public_id) if event.report_id is not None and event.report else None


class HandoffQuerySerializer(serializers.Serializer[Any]):
    status = serializers.MultipleChoiceField(
        choices=HandoffStatus.choices,
        required=False,
        help_text="One or more statuses (repeat the parameter).",
    )
    updated_since = AwareDateTimeField(
        required=False,
        help_text="Only handoffs changed at or after this moment: ISO 8601 with its offset (the "
        "`updated_at` of the newest handoff you hold). Empty, malformed or without an offset: 400.",
    )
    ordering = serializers.ChoiceField(
        choices=["-updated_at", "updated_at", "-created_at", "created_at"],
        required=False,
        default="-updated_at",
    )
