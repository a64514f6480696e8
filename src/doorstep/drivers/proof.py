"""Proof of delivery: what a door needs (photo, signature, PIN, a scan of each parcel), and the
PIN a shopper tells the driver.

What a stop requires is a setting per merchant (``Merchant.proof_policy``) and per package
(``Package.proof_policy``, which overrides its merchant's), each kind of proof at one of four
levels, as the dispatch tools drivers know do it:

- ``off``: the app does not ask for it;
- ``optional``: the app offers it, the driver may skip it;
- ``warn``: the app asks the driver to confirm skipping it, and a delivery without it is flagged
  for the operator;
- ``required``: no delivery without it.

Unless set otherwise a photo is required (optional when a signature or a PIN is asked for) and
the other kinds are off. A stop with parcels of several merchants asks for the strictest level
of each kind.

A PIN is four digits kept as a digest (salted with the package and the process's secret key,
since four digits are easy to enumerate); five wrong tries lock it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from doorstep.errors import DomainError, InvalidInput
from doorstep.models import Package

PIN_TRIES = 5
PIN_DIGITS = 4


class ProofKind(StrEnum):
    PHOTO = "photo"
    SIGNATURE = "signature"
    PIN = "pin"
    SCAN = "scan"  # each parcel's label scanned at the door (the delivery's ``codes``)


class ProofLevel(StrEnum):
    OFF = "off"
    OPTIONAL = "optional"
    WARN = "warn"
    REQUIRED = "required"


_RANK = {level: rank for rank, level in enumerate(ProofLevel)}
_LEVELS = {level.value for level in ProofLevel}

# The request field that carries each kind of proof.
FIELD = {
    ProofKind.PHOTO: "photo",
    ProofKind.SIGNATURE: "signature",
    ProofKind.PIN: "pin",
    ProofKind.SCAN: "codes",
}


class ProofRequired(InvalidInput):
    code = "proof_required"


class ProofSkipNotConfirmed(DomainError):
    """A warned proof is missing and the driver has not confirmed going without it."""

    status = 409
    code = "proof_skip_not_confirmed"


class PinWrong(DomainError):
    status = 409
    code = "pin_wrong"


class PinLocked(DomainError):
    status = 423
    code = "pin_locked"


@dataclass(frozen=True)
class ProofPolicy:
    """The level of every kind of proof at one door."""

    photo: ProofLevel
    signature: ProofLevel
    pin: ProofLevel
    scan: ProofLevel

    def level(self, kind: ProofKind) -> ProofLevel:
        level: ProofLevel = getattr(self, kind.value)
        return level

    @classmethod
    def strictest(cls, policies: Iterable[ProofPolicy]) -> ProofPolicy:
        """The strictest level of each kind (a stop with parcels of several merchants)."""
        found = list(policies)
        if not found:
            return policy_for(None, None)
        return cls(
            **{
                kind.value: max((p.level(kind) for p in found), key=_RANK.__getitem__)
                for kind in ProofKind
            }
        )


def policy_for(
    merchant_policy: Mapping[str, str] | None,
    package_policy: Mapping[str, str] | None,
    pin_hash: str | None = None,
) -> ProofPolicy:
    """One parcel's policy: its own settings over its merchant's over the defaults. A PIN is
    asked for only where the parcel has one (``pin_hash``): a shopper never told a PIN
    cannot give it."""
    merged = {**(merchant_policy or {}), **(package_policy or {})}
    if pin_hash is None:
        merged.pop(ProofKind.PIN.value, None)

    def level(kind: ProofKind, default: ProofLevel) -> ProofLevel:
        value = merged.get(kind.value)
        return ProofLevel(value) if value in _LEVELS else default

    signature = level(ProofKind.SIGNATURE, ProofLevel.OFF)
    pin = level(ProofKind.PIN, ProofLevel.OFF)
    other_proof = {ProofLevel.WARN, ProofLevel.REQUIRED} & {signature, pin}
    photo_default = ProofLevel.OPTIONAL if other_proof else ProofLevel.REQUIRED
    return ProofPolicy(
        photo=level(ProofKind.PHOTO, photo_default),
        signature=signature,
        pin=pin,
        scan=level(ProofKind.SCAN, ProofLevel.OFF),
    )


def check_given(
    policy: ProofPolicy, given: set[ProofKind], confirmed_without: set[ProofKind]
) -> list[ProofKind]:
    """Refuse a delivery that lacks a required proof, or a warned one whose skipping the driver
    has not confirmed; return the warned kinds skipped (the delivery is flagged)."""
    skipped = []
    for kind in ProofKind:
        level = policy.level(kind)
        if kind in given or level in (ProofLevel.OFF, ProofLevel.OPTIONAL):
            continue
        if level is ProofLevel.REQUIRED:
            raise ProofRequired(
                f"this door needs a {kind.value} before the parcels count as delivered",
                field=FIELD[kind],
                proof=kind.value,
            )
        if kind not in confirmed_without:
            raise ProofSkipNotConfirmed(
                f"this door asks for a {kind.value}: take it, or confirm delivering without it "
                f"(confirm_without={kind.value})",
                field=FIELD[kind],
                proof=kind.value,
            )
        skipped.append(kind)
    return skipped


def issue_pin(package: Package, *, secret_key: str) -> str:
    """A fresh PIN for ``package`` (flushed by the caller): only its digest is kept, and the
    plaintext is returned for the shopper's notification."""
    pin = f"{secrets.randbelow(10**PIN_DIGITS):0{PIN_DIGITS}d}"
    set_pin(package, pin, secret_key=secret_key)
    return pin


def set_pin(package: Package, pin: str, *, secret_key: str) -> None:
    package.pin_hash = _pin_digest(package.id, pin, secret_key)
    package.pin_attempts = 0


class PinCheck(StrEnum):
    RIGHT = "right"
    WRONG = "wrong"
    LOCKED_NOW = "locked_now"  # this try was the last one
    LOCKED = "locked"  # locked before this try (not counted)


def check_pin(package: Package, pin: str, *, secret_key: str) -> PinCheck:
    """Compare ``pin`` with the package's; a wrong try counts (the caller commits it even
    though the request fails)."""
    if package.pin_attempts >= PIN_TRIES:
        return PinCheck.LOCKED
    expected = package.pin_hash or ""
    if hmac.compare_digest(expected, _pin_digest(package.id, pin.strip(), secret_key)):
        return PinCheck.RIGHT
    package.pin_attempts += 1
    return PinCheck.LOCKED_NOW if package.pin_attempts >= PIN_TRIES else PinCheck.WRONG


def pin_refusal(package: Package, result: PinCheck) -> DomainError:
    if result is PinCheck.WRONG:
        left = PIN_TRIES - package.pin_attempts
        return PinWrong(
            f"that PIN is not right ({left} {'try' if left == 1 else 'tries'} left)",
            field="pin",
            tries_left=left,
            package=package.tracking_code,
        )
    return PinLocked(
        f"too many wrong PINs for {package.tracking_code}: the operator has been told; "
        "record an attempt instead",
        field="pin",
        package=package.tracking_code,
    )


def _pin_digest(package_id: int, pin: str, secret_key: str) -> str:
    message = f"pin:{package_id}:{pin}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()
