"""Serializers of progress reports: the trainer's input, a report with its frozen figures, replies."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from referrals.api.serializers.common import PersonRefSerializer
from referrals.progress.models import REPORT_TEXT_MAX_LENGTH, ProgressReport, ReportReply


def _narrative(help_text: str) -> serializers.CharField:
    return serializers.CharField(
        max_length=REPORT_TEXT_MAX_LENGTH, required=False, allow_blank=True, default="", help_text=help_text
    )


class ReportInputSerializer(serializers.Serializer[Any]):
    """A progress report for a period; the figures are computed from the session logs, not sent."""

    period_start = serializers.DateField(
        help_text="First day (on or after the acceptance; after the last report's end)."
    )
    period_end = serializers.DateField(help_text="Last day (at the latest today).")
    impressions = _narrative("How the client is doing (this or another narrative part is required).")
    obstacles = _narrative("What got in the way.")
    adherence = _narrative("How the client kept to the programme.")
    recommendations = _narrative("What next.")
    goals = serializers.ListField(
        child=serializers.ChoiceField(choices=ProgressReport.GoalStatus.choices),
        required=False,
        default=list,
        help_text="One assessment per goal line of the guidelines' `goals` text, in their order.",
    )
    final = serializers.BooleanField(
        required=False, default=False, help_text="The last report: completing the referral requires one."
    )


class ReplyInputSerializer(serializers.Serializer[Any]):
    text = serializers.CharField(max_length=REPORT_TEXT_MAX_LENGTH)


class ReportGoalSerializer(serializers.Serializer[Any]):
    goal = serializers.CharField()
    status = serializers.ChoiceField(choices=ProgressReport.GoalStatus.choices)


class ReportSerializer(serializers.Serializer[ProgressReport]):
    """A report as submitted: the period, the figures as they were then (progress.metrics.ReportFigures:
    attendance, the Exercise Vital Signs with their LOINC codes and UCUM units, pain and RPE, series,
    loads), the narrative, the goals' assessment, and its acknowledgement."""

    id = serializers.UUIDField(source="public_id")
    handoff = serializers.UUIDField(source="handoff.public_id")
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    final = serializers.BooleanField()
    figures = serializers.JSONField()
    impressions = serializers.CharField(allow_blank=True)
    obstacles = serializers.CharField(allow_blank=True)
    adherence = serializers.CharField(allow_blank=True)
    recommendations = serializers.CharField(allow_blank=True)
    goals = ReportGoalSerializer(many=True)
    submitted_by = PersonRefSerializer()
    submitted_at = serializers.DateTimeField()
    acknowledged_by = PersonRefSerializer(allow_null=True)
    acknowledged_at = serializers.DateTimeField(allow_null=True)


class ReplySerializer(serializers.Serializer[ReportReply]):
    id = serializers.UUIDField(source="public_id")
    author = PersonRefSerializer()
    text = serializers.CharField()
    created_at = serializers.DateTimeField()
