"""COVID-19 screenings in the back office: storing (api_key, idempotency, no personal
data) and the staff's daily counts by level in the city's days. SQLite and PostgreSQL."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from backoffice_helpers import API_KEY, STAFF_HEADERS
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select

from backoffice import screenings
from backoffice.models import Screening

URL = "/api/v1/screenings"
STATS = "/staff/api/screenings/stats"


def body(**overrides):
    data = {
        "api_key": API_KEY,
        "level": "home_care",
        "protocol_version": "cdmx-covid19-2024.1",
        "age_band": "18-64",
        "alcaldia": "Coyoacán",
        "channel": "twilio",
        "answers": {"emergency_signs": False, "symptoms": ["fever", "cough"], "risk_conditions": []},
        "started_at": "2024-06-01T10:00:00-06:00",
        "completed_at": "2024-06-01T10:03:00-06:00",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def rows(app):
    with app.state.sessionmaker() as session:
        return session.execute(select(Screening).order_by(Screening.id)).scalars().all()


def test_a_screening_is_stored_with_what_the_counts_need(app, client):
    response = client.post(URL, json=body(), headers={"Idempotency-Key": "scr-1"})
    assert response.status_code == 201, response.text
    document = response.json()
    assert document["level"] == "home_care"
    assert document["age_band"] == "18-64"
    assert document["day"] == "2024-06-01"
    assert document["completed_datetime"] == "2024-06-01T10:03:00-06:00"
    (row,) = rows(app)
    assert row.level == "home_care"
    assert row.protocol_version == "cdmx-covid19-2024.1"
    assert row.alcaldia == "Coyoacán"
    assert row.channel == "twilio"
    assert row.answers == {"emergency_signs": False, "symptoms": ["fever", "cough"], "risk_conditions": []}
    assert row.idempotency_key == "scr-1"
    assert row.received_at is not None


def test_the_table_has_no_column_for_personal_data(app):
    columns = {c["name"] for c in inspect(app.state.engine).get_columns("screenings")}
    assert "level" in columns and "age_band" in columns
    for personal in ("name", "first_name", "last_name", "phone", "email", "conversation_id", "sender_id", "age"):
        assert personal not in columns


@pytest.mark.parametrize("field", ["phone", "first_name", "conversation_id", "sender_id", "age"])
def test_personal_fields_are_refused_not_dropped(app, client, field):
    response = client.post(URL, json=body(**{field: "5512345678"}))
    assert response.status_code == 422
    assert rows(app) == []


@pytest.mark.parametrize(
    "answers",
    [
        {"age": 34},  # the age only travels as a band
        {"symptoms": ["me duele todo desde ayer"]},  # the resident's words
        {"exposure": "Juan Pérez, mi vecino"},
        {"nickname": "x"},  # not a question of the protocol
        {"symptoms": [1, 2]},
        {"emergency_signs": "yes please"},
    ],
)
def test_answers_must_be_option_codes_of_the_protocol(app, client, answers):
    assert client.post(URL, json=body(answers=answers)).status_code == 422
    assert rows(app) == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"level": "mild"},
        {"age_band": "34"},
        {"protocol_version": ""},
        {"started_at": "2024-06-01T11:00:00-06:00"},  # after completed_at
        {"completed_at": "2999-01-01T00:00:00Z"},
    ],
)
def test_invalid_records_are_refused(app, client, overrides):
    assert client.post(URL, json=body(**overrides)).status_code in (400, 422)
    assert rows(app) == []


@pytest.mark.parametrize("key", [None, "", "wrong-key"])
def test_the_assistant_api_key_is_required(app, client, key):
    response = client.post(URL, json=body(api_key=key))
    assert response.status_code == 403
    assert rows(app) == []


def test_a_retry_with_the_same_key_never_stores_twice(app, client):
    first = client.post(URL, json=body(), headers={"Idempotency-Key": "scr-retry"})
    again = client.post(URL, json=body(level="urgent"), headers={"Idempotency-Key": "scr-retry"})
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert [r.level for r in rows(app)] == ["home_care"]
    # Other keys, or none, are other screenings.
    assert client.post(URL, json=body(), headers={"Idempotency-Key": "scr-other"}).status_code == 201
    assert client.post(URL, json=body()).status_code == 201
    assert len(rows(app)) == 3


def test_concurrent_retries_that_both_miss_the_lookup_store_one(app, monkeypatch):
    real_lookup = screenings._by_key
    both_looked = threading.Barrier(2, timeout=30)
    lock = threading.Lock()
    calls = []

    def racing_lookup(session, key):
        with lock:
            calls.append(key)
            first_two = len(calls) <= 2
        if first_two:
            both_looked.wait()
            return None
        return real_lookup(session, key)

    monkeypatch.setattr(screenings, "_by_key", racing_lookup)

    def post_once(_):
        return TestClient(app).post(URL, json=body(), headers={"Idempotency-Key": "scr-race"})

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(post_once, range(2)))
    assert sorted(r.status_code for r in responses) == [200, 201]
    assert responses[0].json()["id"] == responses[1].json()["id"]
    assert len(rows(app)) == 1


# --- daily counts -------------------------------------------------------------


def store(client, level, completed_at, **overrides):
    response = client.post(URL, json=body(level=level, completed_at=completed_at, started_at=None, **overrides))
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {API_KEY}"}])
def test_stats_need_the_staff_token(client, headers):
    response = client.get(STATS, params={"start": "2024-06-01", "end": "2024-06-01"}, headers=headers)
    assert response.status_code == 401


def test_counts_by_level_and_city_day(client):
    # 05:30 UTC is still the evening before in Mexico City (UTC-6).
    store(client, "emergency", "2024-06-01T05:30:00Z")
    store(client, "home_care", "2024-06-01T06:30:00Z")
    store(client, "home_care", "2024-06-01T23:59:00-06:00")
    store(client, "no_action", "2024-06-02T00:00:00-06:00")
    store(client, "monitor", "2024-06-03T12:00:00-06:00")
    store(client, "urgent", "2024-05-20T12:00:00-06:00")  # outside the range

    response = client.get(STATS, params={"start": "2024-05-31", "end": "2024-06-02"}, headers=STAFF_HEADERS)
    assert response.status_code == 200, response.text
    stats = response.json()
    assert stats["timezone"] == "America/Mexico_City"
    assert stats["levels"] == ["under_2", "emergency", "urgent", "home_care", "monitor", "no_action"]
    by_day = {d["date"]: d for d in stats["days"]}
    assert list(by_day) == ["2024-05-31", "2024-06-01", "2024-06-02"]
    assert by_day["2024-05-31"]["counts"]["emergency"] == 1
    assert by_day["2024-05-31"]["total"] == 1
    assert by_day["2024-06-01"]["counts"] == {
        "under_2": 0, "emergency": 0, "urgent": 0, "home_care": 2, "monitor": 0, "no_action": 0,
    }
    assert by_day["2024-06-02"]["counts"]["no_action"] == 1
    assert stats["totals"]["home_care"] == 2 and stats["totals"]["urgent"] == 0
    assert stats["total"] == 4


def test_stats_default_to_the_last_30_days_and_empty_days_are_zero(client):
    stats = client.get(STATS, headers=STAFF_HEADERS).json()
    assert len(stats["days"]) == 30
    assert stats["total"] == 0
    assert all(d["total"] == 0 for d in stats["days"])


@pytest.mark.parametrize(
    "params, status",
    [
        ({"start": "2024-06-02", "end": "2024-06-01"}, 400),
        ({"start": "2023-01-01", "end": "2024-06-01"}, 400),
        ({"start": "ayer", "end": "2024-06-01"}, 422),
    ],
)
def test_bad_ranges_are_refused(client, params, status):
    assert client.get(STATS, params=params, headers=STAFF_HEADERS).status_code == status
