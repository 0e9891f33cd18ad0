"""GET /api/v1/handoffs/ is a summary per handoff (issue 7): status, dates, clinic, physiotherapist,
trainer, gym, the patient's name as consent allows, and a link to the detail, which alone carries the
guidelines. The rows are read as plain values; the consent rule is the detail's, row for row."""

from __future__ import annotations

from typing import Any

from referrals.care import services as care_services
from referrals.care.models import Consent
from referrals.handoffs import policies as handoffs_policies
from referrals.handoffs import selectors as handoffs_selectors
from referrals.handoffs import sending as handoffs_sending
from referrals.handoffs import services as handoffs_services
from referrals.handoffs.models import HandoffStatus, TrainerHandoff
from tests import factories as f
from tests.api.conftest import API
from tests.conftest import World

SUMMARY_KEYS = {
    "id",
    "url",
    "status",
    "status_reason",
    "role",
    "clinic",
    "physiotherapist",
    "trainer",
    "gym",
    "plan",
    "patient",
    "patient_name",
    "sent_at",
    "created_at",
    "updated_at",
}


def _row(client: Any, handoff: TrainerHandoff) -> dict[str, Any]:
    rows: list[dict[str, Any]] = [
        r for r in client.get(f"{API}/handoffs/").json()["results"] if r["id"] == str(handoff.public_id)
    ]
    assert len(rows) == 1, rows
    return rows[0]


def test_the_trainer_s_row_is_a_summary_from_the_snapshot_and_links_to_the_detail(
    api_for: Any, world: World, requested: TrainerHandoff
) -> None:
    client = api_for(world.trainer)
    row = _row(client, requested)
    assert set(row) == SUMMARY_KEYS  # no guidelines in a list
    assert row["role"] == "trainer" and row["status"] == "requested"
    assert row["clinic"] == "Lakeside Physio"
    assert row["physiotherapist"] == "Pat Physio"
    assert row["patient_name"] == "Jamie Patient"
    assert row["plan"] is None and row["patient"] is None
    assert row["trainer"] == {"id": str(world.trainer.public_id), "full_name": world.trainer.full_name}
    assert row["gym"] == {"id": str(world.gym.public_id), "name": "Iron Works Gym"}
    assert row["url"] == f"http://testserver{API}/handoffs/{requested.public_id}/"
    detail = client.get(row["url"]).json()
    assert detail["guidelines"]["goals"] and detail["url"] == row["url"]
    # every field the row shows, the detail shows the same
    assert {k: detail[k] for k in SUMMARY_KEYS} == row


def test_the_clinic_s_row_shows_the_live_plan_and_patient(
    api_for: Any, world: World, requested: TrainerHandoff
) -> None:
    world.plan.patient.full_name = "Jamie Renamed"
    world.plan.patient.save(update_fields=["full_name"])
    client = api_for(world.physio)
    row = _row(client, requested)
    assert set(row) == SUMMARY_KEYS
    assert row["role"] == "clinic"
    assert row["patient_name"] == "Jamie Renamed"  # the live record, not the snapshot
    assert row["plan"] == str(world.plan.public_id)
    assert row["patient"] == str(world.plan.patient.public_id)
    assert row["physiotherapist"] == "Pat Physio" and row["clinic"] == "Lakeside Physio"
    assert {k: client.get(row["url"]).json()[k] for k in SUMMARY_KEYS} == row


def test_the_clinic_s_draft_has_its_names_before_any_snapshot(
    api_for: Any, world: World, draft: TrainerHandoff
) -> None:
    row = _row(api_for(world.physio), draft)
    assert row["status"] == "draft" and row["sent_at"] is None
    assert row["patient_name"] == "Jamie Patient" and row["clinic"] == "Lakeside Physio"
    assert _row_missing(api_for(world.trainer), draft)  # drafts are the clinic's own business


def _row_missing(client: Any, handoff: TrainerHandoff) -> bool:
    return all(r["id"] != str(handoff.public_id) for r in client.get(f"{API}/handoffs/").json()["results"])


def test_a_trainer_without_consent_sees_no_patient_or_physiotherapist_name_in_the_list(
    api_for: Any, world: World, requested: TrainerHandoff
) -> None:
    handoffs_services.handoff_accept(handoff=requested, actor=world.trainer)
    consent = Consent.objects.get(patient=world.plan.patient)
    care_services.consent_withdraw(consent=consent, actor=world.physio, reason="Patient asked.")
    row = _row(api_for(world.trainer), requested)
    assert row["status"] == "cancelled"
    assert row["patient_name"] == "" and row["physiotherapist"] == ""
    assert "Jamie" not in str(row)


def test_a_declined_referral_takes_the_names_away_from_the_trainer(
    api_for: Any, world: World, requested: TrainerHandoff
) -> None:
    handoffs_services.handoff_reject(handoff=requested, actor=world.trainer, reason="Fully booked.")
    row = _row(api_for(world.trainer), requested)
    assert row["status"] == "rejected" and row["patient_name"] == "" and row["physiotherapist"] == ""
    assert _row(api_for(world.physio), requested)["patient_name"] == "Jamie Patient"


def test_the_summary_rule_gives_the_detail_s_answer_for_every_row(
    world: World, requested: TrainerHandoff, other_trainer: Any, clinic_admin: Any
) -> None:
    """can_view_guidelines_of_summary (values) and can_view_guidelines (instances) agree, whoever asks,
    whatever the status and the consent."""
    handoffs_services.handoff_accept(handoff=requested, actor=world.trainer)
    handoffs_services.handoff_start(handoff=requested, actor=world.trainer)
    others = []
    for status in ("reject", "fail", "draft", "withdrawn"):
        patient = f.PatientFactory(clinic=world.plan.patient.clinic)
        plan = f.PlanFactory(patient=patient, physiotherapist=world.physio)
        f.PlanExerciseFactory(plan=plan)
        consent = f.ConsentFactory(patient=patient, gym=world.gym, recorded_by=world.physio)
        if status == "draft":
            others.append(
                handoffs_sending.handoff_create(
                    plan=plan, trainer=world.trainer, gym=world.gym, actor=world.physio
                )
            )
            continue
        handoff = handoffs_sending.plan_discharge(
            plan=plan, trainer=world.trainer, gym=world.gym, actor=world.physio
        )
        if status == "reject":
            handoffs_services.handoff_reject(handoff=handoff, actor=world.trainer, reason="No room.")
        elif status == "fail":
            handoffs_services.handoff_accept(handoff=handoff, actor=world.trainer)
            handoffs_services.handoff_start(handoff=handoff, actor=world.trainer)
            handoffs_services.handoff_fail(handoff=handoff, actor=world.trainer, reason="Pain.")
        else:
            handoffs_services.handoff_accept(handoff=handoff, actor=world.trainer)
            care_services.consent_withdraw(consent=consent, actor=world.physio, reason="Asked.")
        others.append(handoff)
    compared = 0
    for user in (world.physio, world.trainer, other_trainer, clinic_admin):
        instances = {h.public_id: h for h in handoffs_selectors.handoff_list_for_user(user=user)}
        rows = list(handoffs_selectors.handoff_summary_list_for_user(user=user))
        assert {r["public_id"] for r in rows} == set(instances)
        for row in rows:
            expected = handoffs_policies.can_view_guidelines(user, instances[row["public_id"]])
            assert handoffs_policies.can_view_guidelines_of_summary(user, row) is expected, (
                user,
                row["status"],
            )
            for surface in (
                handoffs_policies.Surface.INBOX,
                handoffs_policies.Surface.API_LIST,
            ):  # and what a row shows
                shown = handoffs_policies.handoff_shown(user, instances[row["public_id"]], surface)
                assert handoffs_policies.handoff_shown_of_summary(user, row, surface) == shown, (
                    user,
                    row["status"],
                )
            compared += 1
    assert compared == 5 + 4  # the physio sees all five; the trainer all but the draft
    statuses = {r["status"] for r in handoffs_selectors.handoff_summary_list_for_user(user=world.trainer)}
    assert statuses == {HandoffStatus.IN_PROGRESS, HandoffStatus.REJECTED, HandoffStatus.FAILED, "cancelled"}


def test_a_handoff_carries_its_plan_s_clinic_from_creation(world: World, draft: TrainerHandoff) -> None:
    draft.refresh_from_db()
    assert draft.clinic_id == world.plan.patient.clinic_id
