"""channels/dedupe.py: TTL stores (memory and Redis) and the duplicate filter,
also across two Rasa replicas sharing Redis."""
from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

import channel_harness as h
from channels.dedupe import Deduplicator, MemoryTTLStore, RedisTTLStore, make_store
from channels.messenger import MessengerInput

REDIS_URL = "redis://127.0.0.1:6379/0"
needs_redis = pytest.mark.skipif(not h.redis_available(REDIS_URL), reason="Redis at 127.0.0.1:6379 is unreachable")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run(coroutine):
    return asyncio.run(coroutine)


def test_make_store_picks_redis_only_when_configured():
    assert isinstance(make_store(""), MemoryTTLStore)
    assert isinstance(make_store(REDIS_URL), RedisTTLStore)


def test_memory_store_add_is_set_if_absent_until_expiry():
    clock = FakeClock()
    store = MemoryTTLStore(clock=clock)

    async def scenario():
        assert await store.add("k", "1", ttl=60) is True
        assert await store.add("k", "2", ttl=60) is False
        assert await store.get("k") == "1"
        clock.now += 61
        assert await store.get("k") is None
        assert await store.add("k", "3", ttl=60) is True
        await store.set("forever", "x", ttl=None)
        clock.now += 10**9
        assert await store.get("forever") == "x"
        await store.delete("forever")
        assert await store.get("forever") is None

    run(scenario())


def test_memory_store_sweeps_expired_keys():
    clock = FakeClock()
    store = MemoryTTLStore(clock=clock)

    async def scenario():
        for i in range(MemoryTTLStore.SWEEP_EVERY - 1):
            await store.set(f"old{i}", "1", ttl=1)
        clock.now += 2
        await store.set("new", "1", ttl=60)

    run(scenario())
    assert list(store._data) == ["new"]


def test_deduplicator_lets_each_id_through_once_per_channel():
    dedupe = Deduplicator(MemoryTTLStore(), ttl=60)

    async def scenario():
        return [
            await dedupe.first_time("facebook", "m1"),
            await dedupe.first_time("facebook", "m1"),
            await dedupe.first_time("twitter", "m1"),
        ]

    assert run(scenario()) == [True, False, True]


def test_deduplicator_lets_messages_through_when_the_store_is_down():
    class Down(MemoryTTLStore):
        async def add(self, *args, **kwargs):
            raise ConnectionError("down")

    assert run(Deduplicator(Down(), ttl=60).first_time("twilio", "SM1")) is True


@needs_redis
def test_redis_store_same_contract():
    prefix = f"test:channels:{uuid.uuid4().hex}:"
    store = RedisTTLStore(REDIS_URL, prefix=prefix)

    async def scenario():
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(REDIS_URL)
        try:
            assert await store.add("k", "1", ttl=60) is True
            assert await store.add("k", "2", ttl=60) is False
            assert await store.get("k") == "1"
            assert 0 < await client.ttl(prefix + "k") <= 60
            await store.set("forever", "x", ttl=None)
            assert await client.ttl(prefix + "forever") == -1  # no expiry
            await store.delete("k")
            assert await store.get("k") is None
        finally:
            keys = await client.keys(prefix + "*")
            if keys:
                await client.delete(*keys)
            await client.close()

    run(scenario())


@needs_redis
def test_redis_store_survives_a_new_event_loop():
    # The Rasa server, the polling runner and tests each run their own loop.
    store = RedisTTLStore(REDIS_URL, prefix=f"test:channels:{uuid.uuid4().hex}:")
    assert run(store.add("k", "1", ttl=5)) is True
    assert run(store.add("k", "1", ttl=5)) is False
    run(store.delete("k"))


@needs_redis
def test_two_replicas_sharing_redis_handle_a_retry_once(serve, monkeypatch, recorder):
    """Messenger retries may land on another Rasa replica: the shared store stops them."""
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    first = serve(MessengerInput.from_credentials(None))
    second = serve(MessengerInput.from_credentials(None))

    payload = h.load_json("messenger_text.json")
    mid = f"m_{uuid.uuid4().hex}"  # fresh id: the key outlives the test run
    payload["entry"][0]["messaging"][0]["message"]["mid"] = mid
    body = h.dump(payload)
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": h.messenger_signature(h.FB_SECRET, body)}
    try:
        for app in (first, second):
            assert httpx.post(app.url("/webhooks/facebook/webhook"), content=body, headers=headers).status_code == 200
        first.settle()
        second.settle()
        assert len(first.messages) + len(second.messages) == 1
        assert len(recorder.requests) == 1
    finally:
        import redis

        redis.Redis.from_url(REDIS_URL).delete(f"cdmx:channels:seen:facebook:{mid}")


@needs_redis
def test_sms_opt_out_is_shared_between_replicas(serve, monkeypatch, recorder):
    from urllib.parse import urlencode

    from channels.base import store_key
    from channels.twilio_sms import TwilioSmsInput

    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    first = serve(TwilioSmsInput.from_credentials(None))
    second = serve(TwilioSmsInput.from_credentials(None))
    phone = "+5255" + str(uuid.uuid4().int)[:8]
    sid = "SM" + uuid.uuid4().hex
    pairs = h.twilio_form(Body="STOP", From=phone, MessageSid=sid, SmsSid=sid, SmsMessageSid=sid)
    url = first.url("/webhooks/twilio/webhook")
    signature = h.twilio_signature(h.TWILIO_TOKEN, url, pairs)
    try:
        answer = httpx.post(
            url,
            content=urlencode(pairs),
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
        )
        assert "<Message>" in answer.text
        output = second.input_channels[0].get_output_channel()
        second.run(output.send_response(phone, {"text": "Tu reporte fue atendido."}))
        assert recorder.requests == []
    finally:
        import redis

        redis.Redis.from_url(REDIS_URL).delete(
            f"cdmx:channels:sms:optout:{store_key(phone)}", f"cdmx:channels:seen:twilio:{sid}"
        )
