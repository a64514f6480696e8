"""Creating merchants, issuing and revoking keys, authenticating callers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pwdlib import PasswordHash
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.errors import DomainError, InvalidInput, NotFound
from doorstep.merchants.keys import SCOPES, issue_key, matches, prefix_of
from doorstep.models import ApiKey, ApiKeyKind, Merchant, MerchantUser, Node, NodeKind, utcnow

_passwords = PasswordHash.recommended()

MERCHANT_STORE_KINDS = (NodeKind.MALL_STORE, NodeKind.LOCAL_STORE)


class InvalidApiKey(DomainError):
    status = 401
    code = "invalid_api_key"


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"


class StoreNotAvailable(InvalidInput):
    code = "store_not_available"


class EmailTaken(DomainError):
    status = 409
    code = "email_taken"


@dataclass(frozen=True)
class NewKey:
    api_key: ApiKey
    plaintext: str


@dataclass(frozen=True)
class NewMerchant:
    merchant: Merchant
    secret_key: NewKey
    publishable_key: NewKey


def create_merchant(
    session: Session,
    name: str,
    *,
    display_name: str | None = None,
    store_codes: Sequence[str] = (),
) -> NewMerchant:
    """A merchant with one secret and one publishable key, owning the named stores."""
    if not name.strip():
        raise InvalidInput("a merchant needs a name", field="name")
    merchant = Merchant(name=name.strip(), display_name=display_name, button_settings={})
    session.add(merchant)
    session.flush()
    attach_stores(session, merchant, store_codes)
    return NewMerchant(
        merchant=merchant,
        secret_key=create_key(session, merchant, ApiKeyKind.SECRET, label="default"),
        publishable_key=create_key(session, merchant, ApiKeyKind.PUBLISHABLE, label="default"),
    )


def attach_stores(session: Session, merchant: Merchant, store_codes: Sequence[str]) -> None:
    """Make the merchant the owner of its stores (mall stores, local stores)."""
    for code in store_codes:
        node = session.scalar(select(Node).where(Node.code == code))
        if node is None or node.kind not in MERCHANT_STORE_KINDS:
            raise StoreNotAvailable(f"'{code}' is not a mall store or local store", field="stores")
        if node.merchant_id not in (None, merchant.id):
            raise StoreNotAvailable(f"'{code}' belongs to another merchant", field="stores")
        node.merchant_id = merchant.id
    session.flush()


def create_key(
    session: Session, merchant: Merchant, kind: ApiKeyKind, *, label: str | None = None
) -> NewKey:
    issued = issue_key(kind)
    api_key = ApiKey(
        merchant_id=merchant.id,
        kind=kind,
        prefix=issued.prefix,
        secret_hash=issued.digest,
        scopes=list(SCOPES[kind]),
        label=label,
        created_at=utcnow(),
    )
    session.add(api_key)
    session.flush()
    return NewKey(api_key=api_key, plaintext=issued.plaintext)


def list_keys(session: Session, merchant_id: int) -> Sequence[ApiKey]:
    return session.scalars(
        select(ApiKey).where(ApiKey.merchant_id == merchant_id).order_by(ApiKey.id)
    ).all()


def revoke_key(session: Session, merchant_id: int, key_id: int) -> ApiKey:
    api_key = session.get(ApiKey, key_id)
    if api_key is None or api_key.merchant_id != merchant_id:
        raise ApiKeyNotFound(f"no API key {key_id}", key_id=key_id)
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        session.flush()
    return api_key


@dataclass(frozen=True)
class AuthenticatedKey:
    """What a request needs to know about the key it came with."""

    id: int
    merchant_id: int
    prefix: str
    kind: ApiKeyKind
    scopes: tuple[str, ...]


_keys = ApiKey.__table__.c
_merchants = Merchant.__table__.c
# Plain columns, not ORM entities: this runs on every merchant request, and loading an ApiKey
# object into the session cost more than the query itself.
_KEY_LOOKUP = select(
    _keys.id,
    _keys.merchant_id,
    _keys.prefix,
    _keys.kind,
    _keys.scopes,
    _keys.secret_hash,
    _keys.revoked_at,
    _merchants.active,
).join_from(ApiKey.__table__, Merchant.__table__, _merchants.id == _keys.merchant_id)


def authenticate(session: Session, plaintext: str) -> AuthenticatedKey:
    """The live key behind ``plaintext``, or `InvalidApiKey` (never says which part was wrong)."""
    prefix = prefix_of(plaintext)
    # One round trip: the key and whether its merchant is active.
    row = (
        session.connection().execute(_KEY_LOOKUP.where(_keys.prefix == prefix)).first()
        if prefix
        else None
    )
    if row is None or not matches(plaintext, row.secret_hash):
        raise InvalidApiKey("the API key is not valid")
    if row.revoked_at is not None:
        raise InvalidApiKey("the API key has been revoked")
    if not row.active:
        raise InvalidApiKey("the merchant account is deactivated")
    return AuthenticatedKey(
        id=row.id,
        merchant_id=row.merchant_id,
        prefix=row.prefix,
        kind=ApiKeyKind(row.kind),
        scopes=tuple(row.scopes),
    )


def find_merchant(session: Session, merchant_id: int) -> Merchant | None:
    return session.get(Merchant, merchant_id)


def get_merchant(session: Session, merchant_id: int) -> Merchant:
    merchant = find_merchant(session, merchant_id)
    if merchant is None:
        raise NotFound(f"no merchant {merchant_id}", merchant_id=merchant_id)
    return merchant


def active_console_user(session: Session, user_id: int, merchant_id: int) -> tuple[str, str] | None:
    """(e-mail, merchant's shown name) of a console user whose merchant is active."""
    row = session.execute(
        select(MerchantUser.email, Merchant.name, Merchant.display_name)
        .join(Merchant, Merchant.id == MerchantUser.merchant_id)
        .where(
            MerchantUser.id == user_id,
            MerchantUser.merchant_id == merchant_id,
            Merchant.active.is_(True),
        )
    ).first()
    if row is None:
        return None
    email, name, display_name = row
    return email, display_name or name


def create_console_user(
    session: Session, merchant: Merchant, email: str, password: str
) -> MerchantUser:
    email = email.strip().lower()
    if "@" not in email:
        raise InvalidInput(f"'{email}' is not an email address", field="email")
    if len(password) < 10:
        raise InvalidInput("a console password needs at least 10 characters", field="password")
    if session.scalar(select(MerchantUser).where(MerchantUser.email == email)) is not None:
        raise EmailTaken(f"'{email}' already has a console login", field="email")
    user = MerchantUser(
        merchant_id=merchant.id,
        email=email,
        password_hash=_passwords.hash(password),
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    return user


def verify_console_login(session: Session, email: str, password: str) -> MerchantUser | None:
    user = session.scalar(select(MerchantUser).where(MerchantUser.email == email.strip().lower()))
    if user is None:
        _passwords.hash(password)  # same work either way: the timing says nothing
        return None
    return user if _passwords.verify(password, user.password_hash) else None
