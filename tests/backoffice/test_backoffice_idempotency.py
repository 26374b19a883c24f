"""The same Idempotency-Key always answers with the same request, never a second one."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from backoffice_helpers import filed_folio, post_request
from fastapi.testclient import TestClient

from backoffice import intake


def count(client) -> int:
    return int(client.get("/open311/v2/requests.json").headers["X-Total-Count"])


def test_retry_with_the_same_header_key_returns_the_first_request(client):
    first = post_request(client, headers={"Idempotency-Key": "draft-1"})
    again = post_request(client, headers={"Idempotency-Key": "draft-1"}, description="retried text")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert count(client) == 1
    # The stored request is the first one, not the retried text.
    folio = filed_folio(first)
    assert client.get(f"/open311/v2/requests/{folio}.json").json()[0]["description"] == "Bache enorme"


def test_key_as_a_field_in_form_and_json(client):
    first = filed_folio(post_request(client, idempotency_key="draft-2"))
    assert filed_folio(post_request(client, as_json=True, idempotency_key="draft-2")) == first
    # Header and field name the same key space.
    assert filed_folio(post_request(client, headers={"Idempotency-Key": "draft-2"})) == first
    assert count(client) == 1


def test_replay_in_xml_names_the_same_folio(client):
    first = filed_folio(post_request(client, headers={"Idempotency-Key": "draft-x"}))
    replay = post_request(client, fmt="xml", headers={"Idempotency-Key": "draft-x"})
    assert replay.status_code == 200
    assert f"<service_request_id>{first}</service_request_id>".encode() in replay.content


def test_different_keys_and_no_key_file_separate_requests(client):
    a = filed_folio(post_request(client, address_string="Calle 1", idempotency_key="k-a"))
    b = filed_folio(post_request(client, address_string="Calle 2", idempotency_key="k-b"))
    c = filed_folio(post_request(client, address_string="Calle 3"))
    d = filed_folio(post_request(client, address_string="Calle 4"))
    assert len({a, b, c, d}) == 4


def test_header_and_field_must_agree(client):
    response = post_request(client, headers={"Idempotency-Key": "one"}, idempotency_key="two")
    assert response.status_code == 400
    assert response.json()[0]["description"] == "the Idempotency-Key header and the idempotency_key field differ"
    assert count(client) == 0


def test_concurrent_retries_that_both_miss_the_lookup_create_one_request(app, monkeypatch):
    """Force the race: both posts look the key up before either inserts; the
    unique constraint makes the loser answer with the winner's request."""
    real_lookup = intake.find_by_idempotency_key
    both_looked = threading.Barrier(2, timeout=30)
    lock = threading.Lock()
    calls = []

    def racing_lookup(session, key):
        with lock:
            calls.append(key)
            first_two = len(calls) <= 2
        if first_two:
            both_looked.wait()  # neither inserts before both have seen "no such key"
            return None
        return real_lookup(session, key)

    monkeypatch.setattr(intake, "find_by_idempotency_key", racing_lookup)

    def post_once(_):
        return post_request(TestClient(app), headers={"Idempotency-Key": "race-1"})

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(post_once, range(2)))

    assert sorted(r.status_code for r in responses) == [200, 201]
    assert responses[0].json() == responses[1].json()
    # Two racing lookups, then one more after the loser's IntegrityError.
    assert len(calls) == 3
    monkeypatch.setattr(intake, "find_by_idempotency_key", real_lookup)
    assert count(TestClient(app)) == 1


def test_many_concurrent_retries_create_one_request(app):
    def post_once(_):
        return post_request(TestClient(app), headers={"Idempotency-Key": "burst-1"})

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(post_once, range(8)))

    assert all(r.status_code in (200, 201) for r in responses), [r.text for r in responses]
    assert [r.status_code for r in responses].count(201) == 1
    assert len({filed_folio(r) for r in responses}) == 1
    assert count(TestClient(app)) == 1
