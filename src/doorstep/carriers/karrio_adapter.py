"""A carrier backed by the Karrio SDK (rates, labels, tracking for UPS, FedEx, USPS, ...).

Thin on purpose: build the Karrio request with ``karrio_mapping``, hand it to the SDK, map the
answer back. Karrio already turns a carrier's refusal or an HTTP failure into messages; we keep
that shape and also catch what the SDK itself raises on a response it cannot read, because that
too is a carrier failure the caller should be able to fall back from, not a crash.

Each carrier is a separate Karrio package (``karrio-ups``, ``karrio-fedex``, ...): install the
one you configure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import karrio.lib as klib  # type: ignore[import-untyped]
import karrio.sdk as karrio  # type: ignore[import-untyped]
import structlog

from doorstep.carriers import karrio_mapping as mapping
from doorstep.carriers.model import (
    CarrierMessage,
    LabelResult,
    Rate,
    RatesResult,
    ServiceLevel,
    ShipmentRequest,
    TrackingResult,
)

log = structlog.get_logger(__name__)


class CarrierConfigurationError(ValueError):
    """The configured carrier or its credentials cannot make a Karrio gateway."""


def create_gateway(
    carrier: str, credentials: Mapping[str, Any], *, test_mode: bool = False, cache: Any = None
) -> Any:
    """A Karrio gateway: the carrier's connection settings, its mapper and its HTTP proxy.

    ``cache`` holds OAuth tokens between calls (a ``karrio.lib.Cache``); by default each
    gateway keeps its own in memory.
    """
    try:
        return karrio.gateway[carrier].create(
            {**credentials, "test_mode": test_mode}, cache=cache or klib.Cache()
        )
    except Exception as error:  # Karrio raises a bare ShippingSDKError for both cases
        raise CarrierConfigurationError(
            f"cannot set up carrier {carrier!r}: {error} (is karrio-{carrier} installed, "
            "and are its credentials complete?)"
        ) from error


class KarrioCarrier:
    def __init__(
        self,
        gateway: Any,
        *,
        service_codes: Mapping[ServiceLevel, str] | None = None,
        timeout_seconds: float | None = 30.0,
    ) -> None:
        self._gateway = gateway
        self._service_codes = dict(service_codes or {})
        # Karrio's connectors open HTTP connections without a timeout, so a carrier that never
        # answers would hold the caller forever. Calls run on this small pool and the caller
        # stops waiting after ``timeout_seconds`` (the stuck thread ends with its connection).
        self._timeout = timeout_seconds
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix=f"carrier-{self.name}")

    @property
    def name(self) -> str:
        return str(self._gateway.settings.carrier_name)

    def rates(self, request: ShipmentRequest) -> RatesResult:
        services = mapping.services_for(request.service_level, self._service_codes)
        details, found = self._call(
            "rates",
            lambda: (
                karrio.Rating.fetch(mapping.to_rate_request(request, services))
                .from_(self._gateway)
                .parse()
            ),
        )
        rates = tuple(mapping.from_rate_details(rate) for rate in details or ())
        if services:
            # Shopping returns every service; keep the one this service level maps to.
            rates = tuple(rate for rate in rates if rate.service in services)
            if not rates and not found:
                found = (
                    self._message(
                        "no_rate_for_service",
                        f"the carrier offered no {services[0]} rate for this shipment",
                    ),
                )
        return RatesResult(rates=tuple(sorted(rates, key=lambda r: r.amount_cents)), messages=found)

    def buy_label(self, request: ShipmentRequest, rate: Rate) -> LabelResult:
        if rate.carrier != self.name:
            raise ValueError(f"rate from carrier {rate.carrier!r} given to {self.name!r}")
        details, found = self._call(
            "buy_label",
            lambda: (
                karrio.Shipment.create(mapping.to_shipment_request(request, rate))
                .from_(self._gateway)
                .parse()
            ),
        )
        if details is None:
            return LabelResult(messages=found or (self._message("no_label", "no label"),))
        pdf = mapping.label_pdf(details)
        if pdf is None:
            problem = self._message("label_not_pdf", "the carrier's label is not a PDF document")
            return LabelResult(messages=(*found, problem))
        url = self._tracking_url(str(details.tracking_number))
        return LabelResult(
            label=mapping.from_shipment_details(details, rate, pdf, url), messages=found
        )

    def track(self, tracking_number: str) -> TrackingResult:
        details, found = self._call(
            "track",
            lambda: (
                karrio.Tracking.fetch(mapping.to_tracking_request(tracking_number))
                .from_(self._gateway)
                .parse()
            ),
        )
        match = next((d for d in details or () if d.tracking_number == tracking_number), None)
        # We ask for one number; a carrier may echo it reformatted (spaces, lower case).
        if match is None and details:
            match = details[0]
        events = mapping.from_tracking_details(match) if match is not None else ()
        return TrackingResult(tracking_number=tracking_number, events=events, messages=found)

    # --- helpers ----------------------------------------------------------------------------

    def _call(
        self, operation: str, call: Callable[[], tuple[Any, Any]]
    ) -> tuple[Any, tuple[CarrierMessage, ...]]:
        """Run one SDK call: (Karrio's details or None, our messages), never an exception."""
        try:
            details, messages = self._pool.submit(call).result(timeout=self._timeout)
        except FutureTimeout:
            log.warning("carrier_timeout", carrier=self.name, operation=operation)
            return None, (
                self._message("carrier_timeout", f"{operation}: no answer in {self._timeout} s"),
            )
        except Exception as error:
            log.warning(
                "carrier_sdk_error", carrier=self.name, operation=operation, error=str(error)
            )
            return None, (self._message("carrier_sdk_error", f"{operation} failed: {error}"),)
        return details, mapping.from_messages(messages, self.name)

    def _message(self, code: str, text: str) -> CarrierMessage:
        return CarrierMessage(carrier=self.name, code=code, text=text)

    def _tracking_url(self, tracking_number: str) -> str | None:
        template = getattr(self._gateway.settings, "tracking_url", None)
        return str(template).format(tracking_number) if template else None
