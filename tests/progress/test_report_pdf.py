"""The printed report: a PDF of the report's period (its first page rendered and looked at), the names in
its text, a download without the patient's name, the same through the API, 404 outside the scope."""

from __future__ import annotations

import datetime
from typing import Any

import pypdfium2
import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import api_token_create
from referrals.handoffs.models import TrainerHandoff
from referrals.progress import charts as progress_charts
from referrals.progress import pdf as progress_pdf
from referrals.progress.models import ProgressReport
from tests.conftest import World
from tests.progress import factories_charts as fc

NARRATIVE = "Turns up twice a week; squats to a box without pain."


@pytest.fixture
def report(world: World) -> ProgressReport:
    handoff: TrainerHandoff = fc.accepted_handoff(world)
    fc.many_sessions(handoff, 14)  # four weeks, every other day
    fc.many_sessions(handoff, 3, start=fc.MONDAY + datetime.timedelta(days=60))  # after the period
    return fc.report(
        handoff,
        impressions=NARRATIVE,
        recommendations="Progress the load by 2.5 kg.",
        goals=[{"goal": "Climb stairs without pain", "status": "partly"}],
    )


def _pages(content: bytes) -> pypdfium2.PdfDocument:
    assert content.startswith(b"%PDF-")
    return pypdfium2.PdfDocument(content)


def _text(document: pypdfium2.PdfDocument) -> str:
    return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))


def test_the_pdf_has_the_names_the_period_the_figures_and_the_narrative(
    report: ProgressReport, world: World
) -> None:
    document = _pages(progress_pdf.report_pdf(report=report, user=world.physio))
    text = _text(document)
    handoff = report.handoff
    for expected in (
        handoff.plan.patient.clinic.name,
        handoff.gym.name,
        "2026-03-02",
        "2026-03-29",
        "Sessions attended",
        NARRATIVE,
        "Climb stairs without pain",
        "Partly met",
    ):
        assert expected in text, expected
    # the period's 14 sessions, not the 3 after it
    assert "(14 sessions logged)" in text and "Sessions attended 14" in text
    assert "Sessions attended per week 3.5" in text
    # four weeks of data: a page or two, not one per chart
    assert len(document) <= 2


def test_the_first_page_shows_the_pain_chart(report: ProgressReport, world: World) -> None:
    document = _pages(progress_pdf.report_pdf(report=report, user=world.physio))
    image = document[0].render(scale=1.5).to_pil().convert("RGB")
    width, height = image.size
    # the chart is in the lower part of the first page, below the header and the figures
    region = image.crop((0, height // 3, width, height))
    pixels = list(region.get_flattened_data())
    coloured = sum(1 for p in pixels if fc.near_colour(p, progress_charts.PAIN_AFTER))
    assert coloured > 200, coloured  # the pain-after line and its 14 dots
    assert sum(1 for p in pixels if fc.near_colour(p, progress_charts.RPE)) > 200
    assert "Pain and effort per session" in document[0].get_textpage().get_text_range()


def test_the_page_downloads_the_pdf_without_the_patients_name_in_its_file_name(
    report: ProgressReport, world: World, client: Client
) -> None:
    client.force_login(world.physio)
    response = client.get(f"/reports/{report.public_id}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert "2026-03-02" in disposition
    patient = report.handoff.plan.patient.full_name
    assert all(part.lower() not in disposition.lower() for part in patient.split())
    assert response.content.startswith(b"%PDF-")


@pytest.mark.parametrize("who", ["other_clinic_physio", "other_trainer", "clinic_admin"])
def test_anyone_outside_the_referral_gets_a_404(report: ProgressReport, who: str, request: Any) -> None:
    user: User = request.getfixturevalue(who)
    client = Client()
    client.force_login(user)
    assert client.get(f"/reports/{report.public_id}/pdf/").status_code == 404
    api = APIClient()
    _, raw = api_token_create(user=user, name="pdf")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = api.get(f"/api/v1/reports/{report.public_id}/pdf/", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


def test_the_api_answers_the_pdf_to_the_referrals_trainer(report: ProgressReport, world: World) -> None:
    api = APIClient()
    _, raw = api_token_create(user=world.trainer, name="pdf")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    for accept in ("application/pdf", "*/*"):
        response = api.get(f"/api/v1/reports/{report.public_id}/pdf/", HTTP_ACCEPT=accept)
        assert response.status_code == 200, response.content[:200]
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment;")
        assert report.handoff.gym.name in _text(_pages(response.content))


def test_the_trainer_gets_a_404_once_consent_is_withdrawn(report: ProgressReport, world: World) -> None:
    from referrals.care import services as care_services

    consent = report.handoff.consent
    assert consent is not None
    care_services.consent_withdraw(consent=consent, actor=world.physio, reason="")
    client = Client()
    client.force_login(world.trainer)
    assert client.get(f"/reports/{report.public_id}/pdf/").status_code == 404
    client.force_login(world.physio)
    assert client.get(f"/reports/{report.public_id}/pdf/").status_code == 200


def test_the_pdf_fetches_nothing(report: ProgressReport, world: World) -> None:
    """A report's text naming a file or a host is printed as text: the renderer fetches no URL."""
    report.impressions = (
        '<img src="file:///etc/passwd"> <link rel=stylesheet href="http://127.0.0.1:1/x.css">'
    )
    report.save(update_fields=["impressions"])
    text = _text(_pages(progress_pdf.report_pdf(report=report, user=world.physio)))
    assert "file:///etc/passwd" in text
