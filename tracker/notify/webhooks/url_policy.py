"""Where a webhook may post: the SSRF guard, checked when a URL is saved and at each delivery."""

from __future__ import annotations

import ipaddress
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


def address_refused(address: str, *, allow_loopback: bool = False) -> str | None:
    """Why a webhook may not reach ``address`` (None when it may).

    Loopback (unless allowed, for tests), link-local (169.254.0.0/16 with the cloud metadata
    addresses, fe80::/10) and unspecified addresses are refused; private intranet ranges are
    the point of webhooks in a government network and are allowed.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_unspecified or (isinstance(ip, ipaddress.IPv4Address)
                             and ip in ipaddress.IPv4Network("0.0.0.0/8")):
        return "unspecified address"
    if ip.is_link_local:
        return "link-local address"
    if ip.is_loopback and not allow_loopback:
        return "loopback address"
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


def resolve(url: str) -> list[str]:
    """The addresses ``url``'s host resolves to now, each checked by the SSRF rules.

    Raises ``UrlNotAllowed`` when any address is refused (a host resolving to a public and a
    loopback address is refused as a whole), ``OSError`` when the host does not resolve.
    """
    _scheme, host, port = _split_url(url)
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    allow = _allow_loopback()
    for address in addresses:
        why = address_refused(address, allow_loopback=allow)
        if why is not None:
            raise UrlNotAllowed(_l_url_refused, errors={"url": [_l_url_refused]},
                                details=f"{host} resolves to {address} ({why})")
    return addresses


def check_url(url: str) -> str:
    """A subscription's URL, trimmed; 422 when malformed or leading where none may go.

    A host that does not resolve yet is accepted (an intranet name seen only from the
    server's network may appear later); every delivery resolves and checks it again.
    """
    url = (url or "").strip()
    _split_url(url)
    try:
        resolve(url)
    except OSError:
        pass
    return url
