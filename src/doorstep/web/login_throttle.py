"""Slow down password guessing at the console's sign-in.

Failed sign-ins are counted per account (the e-mail typed) and per client address, in the same
storage as the API's rate limits (memory, or Redis when several processes serve). Once either
count reaches the limit, sign-in is refused without checking the password until the window
has moved on; a successful sign-in clears the account's count. The owner of an account under
attack can still sign in from elsewhere once the window passes, and an attacker spreading
guesses over many accounts from one address meets the per-address count.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from limits import RateLimitItem, parse, storage
from limits.strategies import MovingWindowRateLimiter


@dataclass(frozen=True)
class Refusal:
    retry_after_s: int


class LoginThrottle:
    def __init__(self, limit: str, storage_uri: str) -> None:
        self.item: RateLimitItem | None = parse(limit) if limit else None
        self.limiter = MovingWindowRateLimiter(storage.storage_from_string(storage_uri))

    def _keys(self, email: str, client: str) -> tuple[str, str]:
        return f"console-login:account:{email.strip().lower()}", f"console-login:client:{client}"

    def check(self, email: str, client: str) -> Refusal | None:
        """A refusal when too many sign-ins failed lately for this account or address."""
        if self.item is None:
            return None
        for key in self._keys(email, client):
            if not self.limiter.test(self.item, key):
                reset_at = self.limiter.get_window_stats(self.item, key).reset_time
                return Refusal(max(1, int(reset_at - time.time()) + 1))
        return None

    def failed(self, email: str, client: str) -> None:
        if self.item is not None:
            for key in self._keys(email, client):
                self.limiter.hit(self.item, key)

    def succeeded(self, email: str) -> None:
        if self.item is not None:
            self.limiter.clear(self.item, self._keys(email, "")[0])
