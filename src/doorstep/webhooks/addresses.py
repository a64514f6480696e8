"""Where webhooks may go: public addresses only, checked at registration and on every connection.

A merchant chooses the URL doorstep sends its events to. Without a check, that URL could
reach doorstep's own network: the database port, the cloud's metadata service
(169.254.169.254), anything on a private address. So every address a URL's host names must be
public — at registration, for a clear refusal, and again each time the sender opens a
connection, since a host name's DNS answer may change after it was checked. The sender
(`sender.WebhookSender`) then connects to the address it checked, never resolving the name a
second time; TLS still verifies the certificate against the host name.

Host names are resolved by an injectable `Resolver` (tests pass a dictionary); an IP written
as a literal is read the way resolvers read it, including the old forms (``2130706433``,
``0x7f000001``, ``0177.0.0.1``, ``127.1``). ``DOORSTEP_WEBHOOK_ALLOW_PRIVATE`` names hosts and
networks allowed although not public (a receiver on a developer's machine).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

#: ``(host, port)`` → the addresses it names, as strings; raises `OSError` when it names none.
Resolver = Callable[[str, int], Sequence[str]]

# NAT64's well-known prefix: the last 32 bits are an IPv4 address a gateway connects to.
_NAT64 = IPv6Network("64:ff9b::/96")
_DECIMAL = re.compile(r"[1-9][0-9]*")
_OCTAL = re.compile(r"0[0-7]*")
_HEX = re.compile(r"0[xX][0-9a-fA-F]*")


class AddressNotPublic(Exception):
    """A host names an address webhooks may not be sent to. The message never shows the
    address a name resolved to: merchants read it, and internal DNS is not theirs to map."""

    def __init__(self, host: str, literal: bool) -> None:
        where = f"{host} is" if literal else f"{host} resolves to"
        super().__init__(
            f"{where} a private, loopback, link-local or otherwise non-public address; "
            "webhooks are sent to public addresses only"
        )
        self.host = host


def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's answer (``getaddrinfo``), in its order, without repeats."""
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(answer[4][0]) for answer in answers))


def literal_address(host: str) -> IPAddress | None:
    """The address ``host`` spells, if it is an IP literal in any form a resolver accepts."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])  # an IPv6 zone (fe80::1%eth0)
    except ValueError:
        return _loose_ipv4(host)


def _loose_ipv4(host: str) -> IPv4Address | None:
    # inet_aton's (and browsers') reading: one to four parts, each decimal, 0x-hex or 0-octal;
    # the last part fills the bytes the others leave (127.1 is 127.0.0.1, 2130706433 too).
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # a trailing dot
    if not 1 <= len(parts) <= 4:
        return None
    numbers = [_loose_number(part) for part in parts]
    if any(n is None for n in numbers):
        return None
    *head, last = [n for n in numbers if n is not None]
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = last
    for index, number in enumerate(head):
        value += number << (8 * (3 - index))
    return IPv4Address(value)


def _loose_number(part: str) -> int | None:
    if _HEX.fullmatch(part):
        return int(part[2:] or "0", 16)
    if _OCTAL.fullmatch(part):
        return int(part, 8)
    if _DECIMAL.fullmatch(part):
        return int(part)
    return None


def is_public(address: IPAddress) -> bool:
    """Whether the address is on the public internet: not private, loopback, link-local,
    multicast, reserved, unspecified, shared (CGNAT 100.64/10) or documentation — nor an IPv6
    address that embeds such an IPv4 address (IPv4-mapped, 6to4, Teredo, NAT64)."""
    if isinstance(address, IPv6Address):
        address = IPv6Address(address.packed)  # without a zone
        embedded = [address.ipv4_mapped, address.sixtofour]
        if address.teredo is not None:
            embedded.append(address.teredo[1])
        if address in _NAT64:
            embedded.append(IPv4Address(address.packed[-4:]))
        if any(inner is not None and not is_public(inner) for inner in embedded):
            return False
        if address.is_site_local:
            return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses webhooks may reach: public ones, and what the allow-list names.

    ``allowed_hosts`` are host names taken as they resolve; ``allowed_networks`` make their
    addresses acceptable whatever the name that led there.
    """

    allowed_hosts: frozenset[str] = frozenset()
    allowed_networks: tuple[IPNetwork, ...] = ()
    resolver: Resolver = field(default=system_resolver, compare=False)

    @classmethod
    def allowing(
        cls, entries: Iterable[str], resolver: Resolver = system_resolver
    ) -> AddressPolicy:
        """A policy from allow-list entries: host names, addresses or networks (10.0.0.0/8)."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks), resolver)

    def allows(self, address: IPAddress) -> bool:
        return is_public(address) or any(address in network for network in self.allowed_networks)

    def addresses(self, host: str, port: int) -> list[IPAddress]:
        """Every address ``host`` names, each allowed, in the resolver's order.

        `AddressNotPublic` when any is not (one bad answer is enough: a client may pick any);
        `OSError` when the name does not resolve.
        """
        name = host.lower().rstrip(".")
        literal = literal_address(name)
        if literal is not None:
            if not self.allows(literal):
                raise AddressNotPublic(host, literal=True)
            return [literal]
        if name not in self.allowed_hosts and (name == "localhost" or name.endswith(".localhost")):
            raise AddressNotPublic(host, literal=False)  # RFC 6761: always this machine
        answers = [ipaddress.ip_address(a.split("%", 1)[0]) for a in self.resolver(name, port)]
        if not answers:
            raise OSError(f"{host} has no address")
        if name in self.allowed_hosts:
            return answers
        if not all(self.allows(answer) for answer in answers):
            raise AddressNotPublic(host, literal=False)
        return answers
