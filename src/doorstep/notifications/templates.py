"""Rendering a message from its template: subject, plain text and HTML for e-mail, a short
text for SMS.

Each kind of message has two files under ``templates/``: ``<kind>.txt`` holds the blocks
``subject``, ``text`` (the e-mail's plain part) and ``sms``, with the context variables it
takes documented at its top; ``<kind>.html`` is the e-mail's HTML part on ``_layout.html``.
HTML is autoescaped, text is not (it is never read as HTML). A variable a template needs and
the context lacks is an error (`TemplateContextError`), not an empty string: a message with a
hole in it is a bug of its caller.

SMS texts are plain ASCII (the GSM alphabet's common part) so one message holds 160 characters;
a single typographic quote or dash would make it UCS-2 and 70 characters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from jinja2 import (
    Environment,
    PackageLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    UndefinedError,
    select_autoescape,
)

from doorstep.merchants.branding import Brand
from doorstep.models import MessageChannel

KINDS: dict[str, str] = {
    "sign_in_code": "a one-time sign-in code (drivers, partner-store staff, operators)",
    "driver_reminder": "a reminder for a driver, in the operator's words",
    "order_confirmed": "the shopper's order is placed, with its promise",
    "out_for_delivery": "the parcel left with the driver, with an ETA window",
    "arriving": "the driver is a few stops away",
    "delivered": "delivered, where, with the photo",
    "attempted": "a failed delivery attempt and what happens next",
    "ready_at_counter": "ready at a partner store's counter: code, address, hours",
    "delayed": "late: the new date",
    "return_received": "the return arrived and what happens next",
    "return_collection": "a driver comes for a return at the door, or found nobody home",
    "operator_note": "a note about a parcel, in the operator's words",
}
"""The message kinds there are templates for, and what each says."""

SENSITIVE = frozenset({"sign_in_code"})
"""Kinds whose bodies are blanked once a real provider has taken them (the code must not sit
readable in the database); the dev outbox keeps them, since that is where a developer reads
the code."""

SMS_LIMIT = 160
_BLANK_LINES = re.compile(r"\n{3,}")


class UnknownTemplate(ValueError):
    """No template of that name (a caller's bug)."""


class TemplateContextError(ValueError):
    """The context lacks a variable the template needs, or holds an unusable one."""


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str | None  # e-mail only
    text: str
    html: str | None  # e-mail only


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("doorstep.notifications", "templates"),
        autoescape=select_autoescape(["html"], default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["link"] = link
    env.globals["hello"] = hello
    return env


def render(
    template: str, channel: MessageChannel, context: Mapping[str, Any], *, brand: Brand
) -> Rendered:
    """The message ``template`` says for ``context``, for ``channel``, branded ``brand``.

    Raises `UnknownTemplate` or `TemplateContextError`.
    """
    if template not in KINDS:
        raise UnknownTemplate(f"no notification template {template!r}; known: {sorted(KINDS)}")
    env = environment()
    values = {**context, "brand": brand}
    try:
        parts = env.get_template(f"{template}.txt")
        if channel is MessageChannel.SMS:
            return Rendered(subject=None, text=_one_line(_block(parts, "sms", values)), html=None)
        subject = _one_line(_block(parts, "subject", values))
        text = _tidy(_block(parts, "text", values))
        html = env.get_template(f"{template}.html").render(values)
    except UndefinedError as exc:
        raise TemplateContextError(f"template {template!r}: {exc.message}") from exc
    except TemplateNotFound as exc:  # a kind listed without its files: a packaging bug
        raise UnknownTemplate(f"template {template!r} is missing {exc.name}") from exc
    return Rendered(subject=subject, text=text, html=html)


def _block(template: Template, name: str, values: dict[str, Any]) -> str:
    return "".join(template.blocks[name](template.new_context(values)))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)) + "\n"


def link(url: object) -> str:
    """A template filter: ``url`` if it is an absolute http(s) URL; anything else (a
    ``javascript:`` link, a relative path that means nothing in a mailbox) is refused."""
    text = str(url).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise TemplateContextError(f"not an http(s) URL: {text[:100]!r}")
    return text


def hello(name: object = None) -> str:
    """``Hi Ana,`` or ``Hello,`` without a name."""
    text = " ".join(str(name).split()) if name else ""
    return f"Hi {text}," if text else "Hello,"
