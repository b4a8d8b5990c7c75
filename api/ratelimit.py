"""Requests per client: a token bucket per API key or client address, 429 beyond it.

Each client has a bucket of ``burst`` tokens that refills at ``rate_per_s`` tokens per second;
a request takes one token, and a request that finds the bucket empty is answered
``rate_limited`` (429, ``application/problem+json``) with ``Retry-After`` (whole seconds, at
least 1) before anything else runs: the key is not checked and the body is not read.

A client is a configured API key (by its public id, ``key:1a2b3c4d5e6f``) when the request
carries one in ``X-API-Key``, and otherwise the client address (``addr:10.0.0.7``): an
invented key does not give its sender a fresh bucket. Behind a reverse proxy on the same host
the address is the one the proxy forwards (uvicorn trusts ``X-Forwarded-For`` from
127.0.0.1 only). ``/v1/health`` and ``/v1/ready`` are never limited, so monitoring never sees a
429.

Memory is bounded: a bucket left alone long enough to fill up again is the same as a new one
and is dropped, and at most ``max_clients`` buckets are kept (the least recently used goes).
The buckets live in the event loop's thread, so no lock is needed.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from api.errors import ApiError, Code, problem_response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger("flowopt.api")

#: Paths never limited (liveness and readiness probes).
EXEMPT_PATHS = frozenset({"/v1/health", "/v1/ready"})
#: Most buckets kept at once.
MAX_CLIENTS = 10_000


class TokenBuckets:
    """One token bucket per client, in bounded memory.

    Args:
        rate_per_s: tokens added per second (the sustained request rate), > 0.
        burst: bucket size (requests that may come at once), >= 1.
        max_clients: most buckets kept; the least recently used is dropped beyond it.
        clock: monotonic seconds (tests pass a fake clock).
    """

    def __init__(self, rate_per_s: float, burst: int, *, max_clients: int = MAX_CLIENTS, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.max_clients = max_clients
        self.clock = clock
        # seconds after which an untouched bucket is full again, i.e. the same as a new one
        self.refill_s = burst / rate_per_s
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, at)

    def __len__(self) -> int:
        """Number of buckets held."""
        return len(self._buckets)

    def take(self, client: str) -> float:
        """Take one token for ``client``.

        Returns:
            0 when the request may go ahead, else the seconds until a token is there.
        """
        now = self.clock()
        buckets = self._buckets
        # buckets are kept in order of last use: the oldest full ones are forgotten
        while buckets:
            oldest, (_, at) = next(iter(buckets.items()))
            if now - at < self.refill_s:
                break
            del buckets[oldest]
        tokens, at = buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate_per_s)
        wait_s = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait_s = (1.0 - tokens) / self.rate_per_s
        buckets[client] = (tokens, now)
        while len(buckets) > self.max_clients:
            buckets.popitem(last=False)
        return wait_s


class RateLimit:
    """Pure ASGI middleware: answer 429 to a client over its request rate.

    Args:
        app: the wrapped ASGI application.
        rate_per_s: sustained requests per second per client; 0 turns the limit off.
        burst: requests a client may send at once.
        api_keys: the configured keys (a request carrying one is counted under the key).
        exempt: paths never limited.
        clock: monotonic seconds (for tests).
    """

    def __init__(self, app: ASGIApp, *, rate_per_s: float, burst: int, api_keys: Iterable[str] = (), exempt: Iterable[str] = EXEMPT_PATHS, clock: Callable[[], float] = time.monotonic) -> None:
        from api.deps import client_id

        self.app = app
        self.buckets = TokenBuckets(rate_per_s, burst, clock=clock) if rate_per_s > 0 else None
        self.exempt = frozenset(exempt)
        # by the key's SHA-256, so matching a key takes the same time whichever it is
        self._key_ids = {hashlib.sha256(key.encode("utf-8")).digest(): client_id(key) for key in api_keys}

    def client(self, scope: Scope) -> str:
        """Return who is asking: a configured key's public id, else the client address."""
        for name, value in scope.get("headers", ()):
            if name == b"x-api-key":
                known = self._key_ids.get(hashlib.sha256(value).digest())
                if known is not None:
                    return known
        address = scope.get("client")
        return f"addr:{address[0]}" if address else "addr:unknown"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 429 when its client's bucket is empty."""
        if self.buckets is None or scope["type"] != "http" or scope.get("path") in self.exempt:
            await self.app(scope, receive, send)
            return
        client = self.client(scope)
        wait_s = self.buckets.take(client)
        if wait_s <= 0:
            await self.app(scope, receive, send)
            return
        after = max(1, math.ceil(wait_s))
        logger.info("rate limit: %s over %g requests/s (burst %d); told to retry in %d s", client, self.buckets.rate_per_s, self.buckets.burst, after)
        detail = f"This client sent more than {self.buckets.rate_per_s:g} requests per second (bursts up to {self.buckets.burst}); retry in {after} s."
        response = problem_response(ApiError(Code.rate_limited, detail, headers={"Retry-After": str(after)}, retry_after_s=after), scope.get("path"))
        if any(name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0") for name, value in scope.get("headers", ())):
            # the body is never read, so the connection cannot carry another request
            response.headers["Connection"] = "close"
        await response(scope, _disconnected, send)


async def _disconnected() -> Message:
    return {"type": "http.disconnect"}
