"""Where a webhook may post: the SSRF guard, checked when a URL is saved and at each delivery."""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext

from tracker.errors import ValidationError as Invalid

# --- the SSRF guard ----------------------------------------------------------------------


class UrlNotAllowed(Invalid):
    """The URL resolves to an address a webhook may not reach (422 ``url_not_allowed``)."""

    reason = "url_not_allowed"

    def __init__(self, message: Any, *, details: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        #: Which address was refused and why, for the delivery log (not for the answer).
        self.details = details


def _allow_loopback() -> bool:
    value = current_app.config.get("TRACKER_WEBHOOK_ALLOW_LOOPBACK", False)
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


#: IPv6 prefixes that carry an IPv4 address inside (RFC 6052 NAT64, RFC 3056 6to4): the
#: IPv4 address is what the packet reaches, so it is the one judged.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_6TO4 = ipaddress.IPv6Network("2002::/16")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")
_BROADCAST = ipaddress.IPv4Address("255.255.255.255")
#: Only hex, octal and decimal IPv4 forms (``0x7f.1``, ``0177.0.0.1``, ``2130706433``) consist
#: of these; such a host is an address however it is written, never a name.
_NUMERIC_HOST = re.compile(r"[0-9a-fx.]+")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address leads to (mapped, compatible, NAT64, 6to4, Teredo)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    packed = ip.packed
    if ip in _IPV4_COMPATIBLE and int(ip) > 1:  # :: and ::1 are judged as IPv6
        return ipaddress.IPv4Address(packed[12:])
    if ip in _NAT64:
        return ipaddress.IPv4Address(packed[12:])
    if ip in _6TO4:
        return ipaddress.IPv4Address(packed[2:6])
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def address_refused(address: str, *, allow_loopback: bool = False) -> str | None:
    """Why a webhook may not reach ``address`` (None when it may).

    Loopback (unless allowed, for tests), link-local (169.254.0.0/16 with the cloud metadata
    addresses, fe80::/10), unspecified, broadcast, multicast and reserved addresses are
    refused, and so is an IPv6 address that carries one of them (IPv4-mapped, IPv4-compatible,
    NAT64, 6to4, Teredo).  Private intranet ranges are the point of webhooks in a government
    network and are allowed.
    """
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
        address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            why = address_refused(str(inner), allow_loopback=allow_loopback)
            return f"{why} inside {ip}" if why else None
    if ip.is_unspecified or (isinstance(ip, ipaddress.IPv4Address) and ip in _THIS_NETWORK):
        return "unspecified address"
    if ip.is_link_local:
        return "link-local address"
    if ip.is_loopback:
        return None if allow_loopback else "loopback address"
    if ip.is_multicast:
        return "multicast address"
    if ip == _BROADCAST:
        return "broadcast address"
    if isinstance(ip, ipaddress.IPv4Address) and ip.is_reserved:
        return "reserved address"
    return None


def literal_address(host: str) -> str | None:
    """The address ``host`` spells, in any form a resolver accepts, or None for a name.

    ``127.1``, ``0x7f000001``, ``0177.0.0.1`` and ``2130706433`` are all 127.0.0.1 to the C
    library, so they are read the way it reads them (``inet_aton``), not as names.
    """
    host = host.rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(host):
        try:
            return str(ipaddress.IPv4Address(socket.inet_aton(host)))
        except OSError:
            return None
    return None


def _split_url(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(_l_url_invalid, errors={"url": [_l_url_form]})
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Invalid(_l_url_invalid, errors={"url": [_l_url_form]}) from None
    return parts.scheme, parts.hostname, port


_l_url_invalid = lazy_gettext("The URL is invalid.")
_l_url_form = lazy_gettext("An http:// or https:// URL with a host.")
_l_url_refused = lazy_gettext("The URL leads to an address a webhook may not reach.")


def _refuse(host: str, address: str, why: str) -> UrlNotAllowed:
    return UrlNotAllowed(_l_url_refused, errors={"url": [_l_url_refused]},
                         details=f"{host} is {address} ({why})" if host != address
                         else f"{address} ({why})")


def resolve(url: str, allow_loopback: bool | None = None) -> list[str]:
    """The addresses ``url``'s host resolves to now, each checked by the SSRF rules.

    Raises ``UrlNotAllowed`` when any address is refused (a host resolving to a public and a
    loopback address is refused as a whole), ``OSError`` when the host does not resolve.
    """
    _scheme, host, port = _split_url(url)
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    allow = _allow_loopback() if allow_loopback is None else allow_loopback
    for address in addresses:
        why = address_refused(address, allow_loopback=allow)
        if why is not None:
            raise _refuse(host, address, why)
    return addresses


def check_url(url: str) -> str:
    """A subscription's URL, trimmed; 422 when malformed or leading where none may go.

    Judged without any name lookup (a lookup at save time would send the admin's typing to
    the network, and its answer may change anyway): an address in any spelling, and the
    names ``localhost`` and ``*.localhost`` that always mean loopback, are judged here; every
    other name is resolved and judged at each delivery, which is refused there.
    """
    url = (url or "").strip()
    _scheme, host, _port = _split_url(url)
    allow = _allow_loopback()
    address = literal_address(host)
    if address is not None:
        why = address_refused(address, allow_loopback=allow)
        if why is not None:
            raise _refuse(host, address, why)
    elif not allow and (host.rstrip(".") == "localhost" or host.rstrip(".").endswith(
            ".localhost")):
        raise _refuse(host, host, "loopback name")
    return url
