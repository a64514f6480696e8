"""A short-lived, per-process memory of API keys that were just checked.

Every API call names its key; looking it up is a database round trip on every request, a
quarter of a delivery preview's. Keys are remembered for a few seconds after a successful
check: a key revoked through this process is forgotten at once, a key revoked elsewhere (or a
merchant deactivated) stops working within ``ttl_s``. Only the key's digest is kept, never the
key itself.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable

from doorstep.merchants.keys import digest_of, prefix_of
from doorstep.merchants.service import AuthenticatedKey

#: Keys remembered at most (a process serves a few merchants' keys, not millions).
MAX_KEYS = 10_000


class KeyCache:
    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._by_prefix: dict[str, tuple[str, AuthenticatedKey, float]] = {}

    def get(self, plaintext: str) -> AuthenticatedKey | None:
        prefix = prefix_of(plaintext)
        if self.ttl_s <= 0 or prefix is None:
            return None
        with self._lock:
            entry = self._by_prefix.get(prefix)
        if entry is None:
            return None
        digest, key, expires = entry
        if self._clock() >= expires or not hmac.compare_digest(digest_of(plaintext), digest):
            return None
        return key

    def put(self, plaintext: str, key: AuthenticatedKey) -> None:
        if self.ttl_s <= 0:
            return
        with self._lock:
            if len(self._by_prefix) >= MAX_KEYS:
                self._by_prefix.clear()  # rare; the next calls look their keys up again
            self._by_prefix[key.prefix] = (digest_of(plaintext), key, self._clock() + self.ttl_s)

    def forget(self, prefix: str) -> None:
        with self._lock:
            self._by_prefix.pop(prefix, None)
