"""Slow down password guessing at the console's sign-in, without handing anyone a way to lock
a merchant out.

Counts live in the same storage as the API's rate limits (memory, or Redis when several
processes serve), each over the same window (``DOORSTEP_CONSOLE_LOGIN_LIMIT``, 10 per 15
minutes):

- **Per client address, every attempt.** It is counted *before* the password is checked, in
  one atomic step (`limits`' ``hit`` counts and answers whether the attempt is allowed), so
  parallel attempts cannot all pass a check made before any of them was counted: 64 wrong
  passwords sent at once get 10 checks. Successful sign-ins count too (an attempt cannot be
  un-counted), so an attacker's own account cannot reset its address's count.
- **Per account, failures.** Past the limit, the account refuses the addresses that failed
  for it lately, and only those: its owner, from an address that has not failed, still signs
  in with the right password. Someone who knows the e-mail cannot lock the owner out; guesses
  spread over many addresses get one each once the account is over its limit.

A successful sign-in clears its address's failures for that account (not the account's
count: an attacker's addresses stay refused).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from limits import RateLimitItem, parse, storage
from limits.strategies import MovingWindowRateLimiter
from starlette.responses import Response

T = TypeVar("T")


@dataclass(frozen=True)
class Refusal:
    retry_after_s: int


class LoginThrottle:
    def __init__(self, limit: str, storage_uri: str, *, namespace: str = "console-login") -> None:
        # One namespace per sign-in page: the merchant console's counts and the operator
        # console's are kept apart.
        self.namespace = namespace
        self.item: RateLimitItem | None = parse(limit) if limit else None
        self.limiter = MovingWindowRateLimiter(storage.storage_from_string(storage_uri))

    def attempt(self, email: str, client: str) -> Refusal | None:
        """Count a sign-in attempt; a refusal when its password must not be checked."""
        if self.item is None:
            return None
        address = f"{self.namespace}:client:{client}"
        if not self.limiter.hit(self.item, address):
            return self._refusal(self.item, address)
        account, pair = self._account_keys(email, client)
        if not self.limiter.test(self.item, account) and self._has_failed(self.item, pair):
            return self._refusal(self.item, account)
        return None

    def failed(self, email: str, client: str) -> None:
        if self.item is not None:
            for key in self._account_keys(email, client):
                self.limiter.hit(self.item, key)

    def succeeded(self, email: str, client: str) -> None:
        if self.item is not None:
            self.limiter.clear(self.item, self._account_keys(email, client)[1])

    def _account_keys(self, email: str, client: str) -> tuple[str, str]:
        account = f"{self.namespace}:account:{email.strip().lower()}"
        return account, f"{account}:client:{client}"

    def _has_failed(self, item: RateLimitItem, pair: str) -> bool:
        return self.limiter.get_window_stats(item, pair).remaining < item.amount

    def _refusal(self, item: RateLimitItem, key: str) -> Refusal:
        reset_at = self.limiter.get_window_stats(item, key).reset_time
        return Refusal(max(1, int(reset_at - time.time()) + 1))


@dataclass(frozen=True)
class SignInRefused:
    """Why a sign-in form is shown again: its status, the message, when to retry."""

    status: int
    message: str
    retry_after_s: int | None = None

    def shown_on(self, page: Response) -> Response:
        """``page`` (the form again, with the message) with the Retry-After a throttle sets."""
        if self.retry_after_s is not None:
            page.headers["Retry-After"] = str(self.retry_after_s)
        return page


def safe_next(target: str | None, *, within: str, home: str) -> str:
    """Where to go after signing in: ``target`` when it is a page under ``within`` (never
    another site: an open redirect), else ``home``."""
    if target and target.startswith(within) and not target.startswith("//"):
        return target
    return home


def password_sign_in(
    throttle: LoginThrottle,
    client: str,
    email: str,
    password: str,
    verify: Callable[[str, str], T | None],
) -> T | SignInRefused:
    """One sign-in attempt at a console's form: counted first, then the password checked by
    ``verify`` (the account, or None); the account, or why not. Both consoles use it."""
    refusal = throttle.attempt(email, client)
    if refusal is not None:
        minutes = max(1, round(refusal.retry_after_s / 60))
        return SignInRefused(
            429,
            "Too many sign-in attempts. For your account's safety, try again in "
            f"{minutes} minute{'s' if minutes != 1 else ''}.",
            refusal.retry_after_s,
        )
    account = verify(email, password) if email and password else None
    if account is None:
        throttle.failed(email, client)
        return SignInRefused(
            401, "That e-mail and password don't match an account. Check both and try again."
        )
    throttle.succeeded(email, client)
    return account
