"""Small key-value stores with expiry, and the duplicate-delivery filter built on them.

Platforms retry a webhook when the answer is slow or lost, so the same
message id can arrive twice (or at two Rasa replicas at once). `Deduplicator`
lets the first delivery through and drops the rest for `ttl` seconds.

The same stores keep the SMS channel's per-sender state (last options
offered, opt-outs) and Telegram's long button payloads. In-memory by default
(one process); Redis when REDIS_URL is set, so replicas share them and a
restart keeps them.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Dict, Optional, Protocol, Tuple

logger = logging.getLogger(__name__)

KEY_PREFIX = "cdmx:channels:"


class TTLStore(Protocol):
    async def add(self, key: str, value: str, ttl: Optional[int]) -> bool:
        """Set `key` only if it is absent; True if this call set it."""

    async def set(self, key: str, value: str, ttl: Optional[int]) -> None:
        ...

    async def get(self, key: str) -> Optional[str]:
        ...

    async def delete(self, key: str) -> None:
        ...


class MemoryTTLStore:
    """A dict with expiry times. Operations never await, so they are atomic in one event loop."""

    # Expired keys are swept every this many writes, so the dict stays bounded.
    SWEEP_EVERY = 1000

    def __init__(self, clock=time.monotonic) -> None:
        self._data: Dict[str, Tuple[str, Optional[float]]] = {}
        self._clock = clock
        self._writes = 0

    def _live(self, key: str) -> Optional[str]:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= self._clock():
            del self._data[key]
            return None
        return value

    def _write(self, key: str, value: str, ttl: Optional[int]) -> None:
        self._data[key] = (value, None if ttl is None else self._clock() + ttl)
        self._writes += 1
        if self._writes % self.SWEEP_EVERY == 0:
            now = self._clock()
            for stale in [k for k, (_, exp) in self._data.items() if exp is not None and exp <= now]:
                del self._data[stale]

    async def add(self, key: str, value: str, ttl: Optional[int]) -> bool:
        if self._live(key) is not None:
            return False
        self._write(key, value, ttl)
        return True

    async def set(self, key: str, value: str, ttl: Optional[int]) -> None:
        self._write(key, value, ttl)

    async def get(self, key: str) -> Optional[str]:
        return self._live(key)

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)


class RedisTTLStore:
    """The same operations on Redis (`SET NX EX` makes `add` atomic across replicas)."""

    def __init__(self, url: str, prefix: str = KEY_PREFIX) -> None:
        self._url = url
        self._prefix = prefix
        self._client = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    def _redis(self):
        # An asyncio Redis connection belongs to the loop that opened it; a
        # store shared by several loops (tests, the polling runner) needs one each.
        import redis.asyncio as aioredis

        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = aioredis.Redis.from_url(self._url, decode_responses=True)
            self._loop = loop
        return self._client

    async def add(self, key: str, value: str, ttl: Optional[int]) -> bool:
        return bool(await self._redis().set(self._prefix + key, value, nx=True, ex=ttl))

    async def set(self, key: str, value: str, ttl: Optional[int]) -> None:
        await self._redis().set(self._prefix + key, value, ex=ttl)

    async def get(self, key: str) -> Optional[str]:
        return await self._redis().get(self._prefix + key)

    async def delete(self, key: str) -> None:
        await self._redis().delete(self._prefix + key)


def make_store(redis_url: str = "") -> TTLStore:
    """Redis when a URL is configured, process memory otherwise."""
    return RedisTTLStore(redis_url) if redis_url else MemoryTTLStore()


class Deduplicator:
    """Lets each (channel, platform message id) through once within `ttl` seconds."""

    def __init__(self, store: TTLStore, ttl: int) -> None:
        self.store = store
        self.ttl = ttl

    async def first_time(self, channel: str, message_id: str) -> bool:
        try:
            return await self.store.add(f"seen:{channel}:{message_id}", "1", self.ttl)
        except Exception as exc:  # store down
            # A lost message is worse than a rare double answer: let it through.
            logger.error("Duplicate check unavailable (%s); handling %s message anyway.", type(exc).__name__, channel)
            return True
