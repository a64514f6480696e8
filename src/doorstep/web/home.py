"""The landing page at ``/``: what this doorstep serves, for whom, and where."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from doorstep import __version__
from doorstep.api.deps import get_settings_dep
from doorstep.settings import Environment, Settings
from doorstep.web import pages

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    href: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Face:
    """One face of doorstep: who it is for, what it does, where to find it."""

    name: str
    audience: str
    about: Markup  # written here, so it may hold <code>
    links: tuple[Link, ...] = ()
    development_only: bool = False  # listed outside production only


# The faces that exist, in the order the page lists them. A new face (the driver app at
# /driver/, the partner store's at /store/, shoppers' tracking at /track/…, the operator
# console at /ops/) adds its line here when it ships.
FACES: tuple[Face, ...] = (
    Face(
        "API",
        "Developers and integrators",
        Markup(
            "Every endpoint with its request, answer and errors. Merchant endpoints take the "
            "merchant's API key, operator endpoints an operator's own token (opr_…), each as a "
            "bearer token."
        ),
        (
            Link("Interactive docs", "/docs", "try a call (Swagger UI)"),
            Link("Reference", "/redoc", "read it through (ReDoc)"),
            Link("OpenAPI schema", "/openapi.json", "for client generators"),
        ),
    ),
    Face(
        "Merchant console",
        "Merchants",
        Markup("A shop's orders as they come in: search, status, packages, CSV export."),
        (Link("Sign in", "/console/login"),),
    ),
    Face(
        "Driver app",
        "Gig drivers",
        Markup(
            "On the driver's phone: block offers with the pay, hours and miles before "
            "accepting, check-in at the station, scans, the stop list with navigation, proof "
            "of delivery. It installs as an app and keeps what is done in a dead spot until "
            "the signal returns."
        ),
        (Link("Open", "/driver/", "sign in by a code sent by e-mail"),),
    ),
    Face(
        "Partner store",
        "Staff of partner stores",
        Markup(
            "At a shop counter or on a phone: the morning batch scanned in (typed, by a "
            "scanner or the camera), the staff route with navigation and photo proof, parcels "
            "handed over at the counter by the shopper's code or barcode, the pay statement."
        ),
        (Link("Open", "/store/", "sign in by a code sent by e-mail"),),
    ),
    Face(
        "Hosted checkout",
        "Shoppers",
        Markup(
            "Opens from the checkout button on a merchant's own site. The site loads "
            "<code>/widget.js</code> with its publishable key; the button shows the delivery "
            "promise for the shopper's ZIP code and opens the checkout for that quote, which "
            "takes the address. Payment stays with the merchant."
        ),
    ),
    Face(
        "Tracking page",
        "Shoppers",
        Markup(
            "<code>/track/&lt;token&gt;</code>, the link in every message to the shopper and "
            "in the order API: the parcel's progress, a live arrival window, the delivery "
            "photo, instructions for the driver, returns. No login: the link is the key."
        ),
    ),
    Face(
        "Operator console",
        "Operators",
        Markup(
            "Run the day: open exceptions with the actions that resolve them, the day's "
            "numbers, the stored plans, and (admins) the people, their tokens and the audit "
            "log. Accounts come from <code>doorstep users create</code>."
        ),
        (Link("Open the console", "/ops/sign-in", "with an operator account"),),
    ),
    Face(
        "Plan pages",
        "Operators",
        Markup(
            "<code>doorstep plan</code> writes a page per station and day into the data "
            "folder's <code>plans/</code>: the routes on a map, the blocks on offer, partner "
            "manifests, carrier parcels. Each page opens from disk."
        ),
    ),
    Face(
        "Dev outbox",
        "Developers",
        Markup(
            "Every e-mail and SMS doorstep queued, newest first, as its recipient sees it. "
            "Without a mail server or SMS account, messages go here: sign-in codes too."
        ),
        (Link("Outbox", "/dev/outbox", "development and test only"),),
        development_only=True,
    ),
)


@router.get("/", response_class=HTMLResponse)
def home(settings: Annotated[Settings, Depends(get_settings_dep)]) -> HTMLResponse:
    production = settings.environment is Environment.PRODUCTION
    faces = [face for face in FACES if not (production and face.development_only)]
    return pages.render("home.html", faces=faces, version=__version__)
