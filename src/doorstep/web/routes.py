"""The browser faces: the widget script, ZIP look-up, hosted checkout and (included) the
landing page and the console.

``router`` carries every route here; the landing page's routes live in ``home.py``, the
console's in ``console.py``, and are included into it.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from doorstep.api.deps import DbSession, Now, Promises, get_settings_dep
from doorstep.api.errors import error_responses
from doorstep.errors import DomainError
from doorstep.geo import postal_codes
from doorstep.merchants import service as merchants
from doorstep.models import DeliveryPreview, Merchant
from doorstep.orders import service as orders
from doorstep.partners import counter
from doorstep.promise import rules
from doorstep.promise import service as promise
from doorstep.promise.schemas import PostalCodeOut, PreviewIn
from doorstep.settings import Settings
from doorstep.web import (
    checkout,
    console,
    driver,
    driver_me,
    driver_work,
    home,
    pages,
    store,
    track,
)
from doorstep.web.checkout import Passthrough

router = APIRouter()
router.include_router(home.router)
router.include_router(console.router)
router.include_router(driver.router)
router.include_router(store.router)
router.include_router(track.router)
router.include_router(driver_work.router)
router.include_router(driver_me.router)

SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
_STATIC = files("doorstep.web").joinpath("static")
_JS = "application/javascript; charset=utf-8"
_CSS = "text/css; charset=utf-8"
_ASSETS = {
    "widget.js": _JS,
    "checkout.js": _JS,
    "doorstep.css": _CSS,
    # Swagger UI (/docs) and ReDoc (/redoc): versions and sources in static/vendor/README.md.
    "vendor/swagger-ui/swagger-ui-bundle.js": _JS,
    "vendor/swagger-ui/swagger-ui.css": _CSS,
    "vendor/swagger-ui/favicon-32x32.png": "image/png",
    "vendor/redoc/redoc.standalone.js": _JS,
    # The driver app (web/driver.py): its script, stylesheet and icons.
    "driver/app.js": _JS,
    "driver/road.js": _JS,
    "driver/driver.css": _CSS,
    "driver/icon-192.png": "image/png",
    "driver/icon-512.png": "image/png",
    # The partner store's pages (web/store.py).
    "store/store.js": _JS,
    "store/store.css": _CSS,
    # The shopper's tracking page (web/track.py).
    "track.js": _JS,
    "track.css": _CSS,
    # The operator's live map (web/ops/live_map.py).
    "ops/map.js": _JS,
    # The console's planning form (web/ops/planning.py).
    "ops/plan-form.js": _JS,
}

# Paths a merchant's page calls from the shopper's browser (any origin): see cors.py.
PUBLIC_PATHS = ("/widget.js", "/v1/delivery-previews", "/v1/geo/postal-codes/")
# The pages people fill in: input the app refuses before routing gets a page, not JSON.
PAGE_PATHS = ("/checkout", "/console", "/track")


def _asset(name: str) -> Response:
    return Response(
        _STATIC.joinpath(*name.split("/")).read_bytes(),
        media_type=_ASSETS[name],
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


@router.api_route("/widget.js", methods=["GET", "HEAD"], include_in_schema=False)
def widget_script() -> Response:
    return _asset("widget.js")


@router.get("/assets/{name:path}", include_in_schema=False)
def asset(name: str) -> Response:
    if name not in _ASSETS:
        return Response("not found", status_code=404, media_type="text/plain")
    return _asset(name)


@router.get(
    "/v1/geo/postal-codes/{code}",
    tags=["delivery promise"],
    summary="A ZIP code's approximate centroid (the area the network serves)",
    responses=error_responses(postal_codes.UnknownPostalCode),
)
def postal_code(code: str) -> PostalCodeOut:
    return PostalCodeOut.model_validate(postal_codes.lookup(code))


def _checkout_page(
    session: DbSession,
    settings: Settings,
    *,
    key: str,
    merchant: Merchant,
    preview: DeliveryPreview,
    extra: Passthrough,
    token: str | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    preselect: str = "",
) -> HTMLResponse:
    options = checkout.options_of(session, preview)
    offered = {o.id for o in options}
    wanted = (values or {}).get("option") or preselect
    chosen = wanted if wanted in offered else (options[0].id if options else "")
    return pages.render(
        "checkout.html",
        status_code=422 if errors else 200,
        **_brand(merchant, extra),
        key=key,
        preview=preview,
        lines=checkout.lines_of(session, merchant.id, preview.items),
        options=options,
        chosen=chosen,
        unavailable=preview.unavailable,
        postal_code=preview.destination.get("postal_code"),
        held_until=pages.clock_time(preview.expires_at, checkout.zone_of(session, [])),
        token=token or checkout.issue_form_token(settings, merchant.id, preview.public_id, extra),
        values=values if values is not None else checkout.address_prefill(preview),
        errors=errors or {},
        extra=extra,
        requote=extra.as_dict(),
    )


def _brand(merchant: Merchant | None, extra: Passthrough) -> dict[str, Any]:
    saved = merchant.button_settings or {} if merchant else {}
    color = pages.brand_color(extra.color, saved.get("color"))
    return {
        "merchant_name": checkout.merchant_name(merchant) if merchant else "Checkout",
        "color": color,
        "text_color": pages.text_on(color),
        "return_url": extra.return_url,
    }


def unreadable_input(path: str) -> HTMLResponse:
    """The page for a form the request guard refuses (a NUL character in what was sent)."""
    brand = _brand(None, Passthrough())
    if path.startswith("/console"):
        brand["merchant_name"] = "Merchant console"
    return pages.render(
        "problem.html",
        status_code=422,
        **brand,
        problem=checkout.Problem(
            "We couldn't read what was sent",
            "It contains a character we can't accept. Go back, check what you typed and send "
            "it again.",
        ),
        key="",
        preview_id="",
        requote={},
    )


def _problem(
    exc: DomainError,
    *,
    merchant: Merchant | None,
    extra: Passthrough,
    key: str = "",
    preview_id: str = "",
) -> HTMLResponse:
    problem = checkout.explain(exc)
    return pages.render(
        "problem.html",
        status_code=exc.status,
        **_brand(merchant, extra),
        problem=problem,
        key=key,
        preview_id=preview_id,
        requote=extra.as_dict(),
    )


@router.get("/checkout", response_class=HTMLResponse, include_in_schema=False)
def checkout_form(
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    now: Now,
    key: Annotated[str, Query(max_length=200)] = "",
    preview: Annotated[str, Query(max_length=40)] = "",
    payment_ref: Annotated[str | None, Query(max_length=200)] = None,
    ref: Annotated[str | None, Query(max_length=200)] = None,
    return_url: Annotated[str | None, Query(alias="return", max_length=2000)] = None,
    color: Annotated[str | None, Query(max_length=20)] = None,
    option: Annotated[str, Query(max_length=80)] = "",
) -> HTMLResponse:
    extra = Passthrough.clean(payment_ref, ref, return_url, color)
    merchant = None
    try:
        merchant = checkout.merchant_for_key(session, key)
        found = promise.load_preview(session, merchant.id, preview, now=now)
    except DomainError as exc:
        return _problem(exc, merchant=merchant, extra=extra, key=key, preview_id=preview)
    return _checkout_page(
        session, settings, key=key, merchant=merchant, preview=found, extra=extra, preselect=option
    )


@router.post("/checkout", response_class=HTMLResponse, include_in_schema=False)
def place_checkout_order(
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    now: Now,
    policy: Promises,
    key: Annotated[str, Form(max_length=200)] = "",
    token: Annotated[str, Form(max_length=4000)] = "",
    option: Annotated[str, Form(max_length=80)] = "",
    name: Annotated[str, Form(max_length=2000)] = "",
    phone: Annotated[str, Form(max_length=2000)] = "",
    email: Annotated[str, Form(max_length=2000)] = "",
    street: Annotated[str, Form(max_length=2000)] = "",
    unit: Annotated[str, Form(max_length=2000)] = "",
    city: Annotated[str, Form(max_length=2000)] = "",
    state: Annotated[str, Form(max_length=2000)] = "",
    postal_code: Annotated[str, Form(max_length=2000)] = "",
    instructions: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    values = {
        "option": option,
        "name": name,
        "phone": phone,
        "email": email,
        "street": street,
        "unit": unit,
        "city": city,
        "state": state,
        "postal_code": postal_code,
        "instructions": instructions,
    }
    merchant = None
    extra = Passthrough()
    try:
        form = checkout.read_form_token(settings, token)
        extra = form.passthrough
        merchant = checkout.merchant_for_key(session, key)
        if merchant.id != form.merchant_id:
            raise checkout.BadFormToken("the form belongs to another shop")
        preview = promise.load_preview(session, merchant.id, form.preview_id, now=now)
    except DomainError as exc:
        return _problem(exc, merchant=merchant, extra=extra, key=key)
    quoted_zip = postal_codes.normalise(str(preview.destination.get("postal_code") or ""))
    shopper, errors = checkout.read_shopper(values, quoted_zip)
    speeds = {o["id"] for o in preview.options}
    if option not in speeds:
        errors["option"] = "Choose how fast you'd like it, or where to pick it up."
    if shopper is None or errors:
        return _checkout_page(
            session,
            settings,
            key=key,
            merchant=merchant,
            preview=preview,
            extra=extra,
            token=token,
            values=values,
            errors=errors,
        )
    body = checkout.order_body(preview, option, shopper, extra)
    try:
        placed = orders.place_order(
            session,
            merchant.id,
            body,
            idempotency_key=form.idempotency_key,
            now=now,
            policy=policy,
        )
        order_id = placed.order.public_id
    except orders.IdempotencyKeyReused as exc:
        # The same form sent again with other details: the first order stands.
        order_id = str(exc.context["order_id"])
    except DomainError as exc:
        return _problem(exc, merchant=merchant, extra=extra, key=key, preview_id=preview.public_id)
    receipt = checkout.issue_receipt(settings, merchant.id, order_id, extra)
    return RedirectResponse(f"/checkout/confirmation?{urlencode({'r': receipt})}", status_code=303)


@router.post("/checkout/requote", include_in_schema=False)
def requote(
    session: DbSession,
    now: Now,
    policy: Promises,
    key: Annotated[str, Form(max_length=200)] = "",
    preview: Annotated[str, Form(max_length=40)] = "",
    payment_ref: Annotated[str | None, Form(max_length=200)] = None,
    ref: Annotated[str | None, Form(max_length=200)] = None,
    return_url: Annotated[str | None, Form(alias="return", max_length=2000)] = None,
    color: Annotated[str | None, Form(max_length=20)] = None,
) -> Response:
    """A fresh quote for an earlier quote's basket and address, then its checkout page."""
    extra = Passthrough.clean(payment_ref, ref, return_url, color)
    merchant = None
    try:
        merchant = checkout.merchant_for_key(session, key)
        earlier = promise.find_preview(session, merchant.id, preview)
        if earlier is None:
            raise promise.PreviewNotFound(f"no delivery preview '{preview}'")
        request = PreviewIn.model_validate(
            {"items": earlier.items, "destination": earlier.destination}
        )
        fresh = promise.create_preview(session, merchant.id, request, now=now, policy=policy)
    except DomainError as exc:
        return _problem(exc, merchant=merchant, extra=extra, key=key)
    query = {"key": key, "preview": fresh.id, **extra.as_dict()}
    return RedirectResponse(f"/checkout?{urlencode(query)}", status_code=303)


@router.get("/checkout/confirmation", response_class=HTMLResponse, include_in_schema=False)
def confirmation(
    session: DbSession,
    settings: SettingsDep,
    r: Annotated[str, Query(max_length=4000)] = "",
) -> HTMLResponse:
    try:
        merchant_id, order_id, extra = checkout.read_receipt(settings, r)
        order = orders.get_order(session, merchant_id, order_id)
    except DomainError as exc:
        return _problem(exc, merchant=None, extra=Passthrough())
    merchant = merchants.find_merchant(session, merchant_id)
    zone = checkout.zone_of(
        session, [p.serving_node_id or p.origin_node_id for p in order.packages][:1]
    )
    data = orders.order_view_data(session, [order])
    skus = data["skus"]
    items = [{"sku": skus[line.product_id], "quantity": line.quantity} for line in order.lines]
    counter_at = next(iter(data["collect_at"].values()), None)
    store = None if counter_at is None else counter.counter_store(session, counter_at)
    return pages.render(
        "confirmation.html",
        **_brand(merchant, extra),
        order=order,
        store=store,
        promise_label=(
            rules.label(order.speed, order.promised_by, zone)
            if store is None
            else f"Pick up at {store.name}: "
            + rules.pickup_label(order.promised_by, zone, order.created_at).lower()
        ),
        lines=checkout.lines_of(session, merchant_id, items),
        payment_by=checkout.merchant_name(merchant) if merchant else "the shop",
    )
