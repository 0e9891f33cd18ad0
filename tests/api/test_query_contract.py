"""Query parameters say what they accept: `updated_since` and `cursor` refuse what they cannot read with a
400 naming the parameter, instead of ignoring it or failing in the database."""

from __future__ import annotations

import base64
import datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from referrals.handoffs import sending as handoffs_sending
from tests import factories as f
from tests.api.conftest import API, assert_error

POLLED = ["handoffs", "notifications"]


@pytest.mark.parametrize("resource", POLLED)
@pytest.mark.parametrize(
    "value",
    ["", " ", "yesterday", "2026-13-01T00:00:00Z", "2026-02-30T10:00:00Z", "2026-01-01T25:00:00Z", "x" * 500],
)
def test_an_empty_or_malformed_updated_since_is_a_400_on_the_field(
    api_for: Any, world: Any, requested: Any, resource: str, value: str
) -> None:
    body = assert_error(
        api_for(world.trainer).get(f"{API}/{resource}/", {"updated_since": value}), 400, "invalid"
    )
    assert list(body["fields"]) == ["updated_since"], body


@pytest.mark.parametrize("resource", POLLED)
def test_a_naive_updated_since_is_refused_because_its_zone_would_be_a_guess(
    api_for: Any, world: Any, requested: Any, resource: str
) -> None:
    body = assert_error(
        api_for(world.trainer).get(f"{API}/{resource}/", {"updated_since": "2020-01-01T00:00:00"}), 400
    )
    assert "offset" in body["fields"]["updated_since"][0]


@pytest.mark.parametrize("resource", POLLED)
def test_an_unencoded_plus_offset_is_refused_not_misread(
    api_for: Any, world: Any, requested: Any, resource: str
) -> None:
    # `+` in a raw query string is a space: "2020-01-01T00:00:00 01:00" must not pass as another time
    response = api_for(world.trainer).get(f"{API}/{resource}/?updated_since=2020-01-01T00:00:00+01:00")
    assert "updated_since" in assert_error(response, 400)["fields"]


@pytest.mark.parametrize("resource", POLLED)
def test_an_updated_since_out_of_range_is_a_400_not_a_500(
    api_for: Any, world: Any, requested: Any, resource: str
) -> None:
    for value in ("9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"):
        response = api_for(world.trainer).get(f"{API}/{resource}/", {"updated_since": value})
        assert "updated_since" in assert_error(response, 400)["fields"], value


def test_updated_since_with_an_offset_is_the_same_moment_in_any_zone(
    api_for: Any, world: Any, requested: Any
) -> None:
    client = api_for(world.trainer)
    changed = requested.updated_at.astimezone(datetime.UTC)
    just_after = changed + datetime.timedelta(microseconds=1)
    paris = datetime.timezone(datetime.timedelta(hours=1))
    for since, expected in (
        (changed.isoformat().replace("+00:00", "Z"), 1),
        (changed.astimezone(paris).isoformat(), 1),
        (just_after.astimezone(paris).isoformat(), 0),
    ):
        rows = client.get(f"{API}/handoffs/", {"updated_since": since}).json()["results"]
        assert len(rows) == expected, since


def test_notifications_updated_since_with_an_offset_reads_the_same_moment(
    api_for: Any, world: Any, requested: Any
) -> None:
    client = api_for(world.trainer)
    tokyo = datetime.timezone(datetime.timedelta(hours=9))
    before = (timezone.now() - datetime.timedelta(minutes=1)).astimezone(tokyo).isoformat()
    after = (timezone.now() + datetime.timedelta(minutes=1)).astimezone(tokyo).isoformat()
    assert len(client.get(f"{API}/notifications/", {"updated_since": before}).json()["results"]) == 1
    assert client.get(f"{API}/notifications/", {"updated_since": after}).json()["results"] == []


def test_other_filters_sent_empty_are_refused_not_ignored(api_for: Any, world: Any) -> None:
    client = api_for(world.physio)
    for url, field in (
        (f"{API}/plans/?patient=", "patient"),
        (f"{API}/plans/?status=", "status"),
        (f"{API}/consents/?patient=", "patient"),
        (f"{API}/trainers/?gym=", "gym"),
        (f"{API}/handoffs/?status=", "status"),
        (f"{API}/handoffs/?ordering=", "ordering"),
        (f"{API}/trainers/?accepting=", "accepting"),
        (f"{API}/consents/?active=", "active"),
        (f"{API}/notifications/?unread=", "unread"),
    ):
        assert list(assert_error(client.get(url), 400)["fields"]) == [field], url


def forge(**tokens: str) -> str:
    from urllib.parse import urlencode

    return base64.b64encode(urlencode(tokens).encode()).decode()


def next_cursor(client: Any, url: str) -> str:
    link: str = client.get(url).json()["next"]
    assert link, url
    return parse_qs(urlparse(link).query)["cursor"][0]


@pytest.fixture
def many_handoffs(world: Any) -> None:
    for _ in range(3):
        patient = f.PatientFactory(clinic=world.plan.patient.clinic)
        plan = f.PlanFactory(patient=patient, physiotherapist=world.physio)
        handoffs_sending.handoff_create(plan=plan, trainer=world.trainer, gym=world.gym, actor=world.physio)


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not base64 at all!",
        "é",
        forge(o="x"),
        forge(r="maybe"),
        forge(p="not a date"),  # handoffs are ordered by a date
        forge(p="2026-01-01 10:00:00"),  # a naive date
        forge(p="\x00"),
        forge(p="9999-12-31 23:59:59-23:59"),
    ],
)
def test_a_malformed_or_forged_cursor_is_a_400_on_the_field(
    api_for: Any, world: Any, many_handoffs: None, cursor: str
) -> None:
    body = assert_error(
        api_for(world.physio).get(f"{API}/handoffs/", {"cursor": cursor, "page_size": 1}), 400, "invalid"
    )
    assert list(body["fields"]) == ["cursor"], body


@pytest.mark.parametrize(
    ("resource", "position"),
    [
        ("trainers", "abc"),  # ordered by an integer id
        ("trainers", "1e5"),
        ("trainers", str(2**70)),  # beyond any integer column
        ("patients", "nul\x00"),  # ordered by a name
        ("consents", "2026-02-30 00:00:00+00:00"),
    ],
)
def test_a_forged_cursor_position_never_reaches_the_query(
    api_for: Any, world: Any, resource: str, position: str
) -> None:
    response = api_for(world.physio).get(f"{API}/{resource}/", {"cursor": forge(p=position)})
    assert list(assert_error(response, 400)["fields"]) == ["cursor"]


def test_the_cursors_the_api_hands_out_still_work(
    api_for: Any, world: Any, other_trainer: Any, many_handoffs: None
) -> None:
    client = api_for(world.physio)
    cursor = next_cursor(client, f"{API}/handoffs/?page_size=1")
    page = client.get(f"{API}/handoffs/", {"cursor": cursor, "page_size": 1})
    assert page.status_code == 200 and len(page.json()["results"]) == 1
    back = parse_qs(urlparse(page.json()["previous"]).query)["cursor"][0]
    assert client.get(f"{API}/handoffs/", {"cursor": back, "page_size": 1}).status_code == 200
    for resource in ("trainers", "patients"):  # ordered by an integer id, by a name
        cursor = next_cursor(client, f"{API}/{resource}/?page_size=1")
        assert client.get(f"{API}/{resource}/", {"cursor": cursor, "page_size": 1}).status_code == 200
