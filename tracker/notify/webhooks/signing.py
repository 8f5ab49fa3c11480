"""Signing a message (Standard Webhooks) and posting it to the address the URL was checked at."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from tracker.errors import ValidationError as Invalid
from tracker.notify.webhooks.url_policy import UrlNotAllowed, _split_url, resolve

# --- signing and sending -----------------------------------------------------------------


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` header: ``v1,`` + base64 HMAC-SHA256 of id.timestamp.body."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address the SSRF check approved, not to a fresh lookup of the name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to the approved address, the certificate checked against the URL's host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self.context = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.context)
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self.context.wrap_socket(sock, server_hostname=self.host)


@dataclass
class Attempt:
    """The outcome of one POST."""

    ok: bool
    status_code: int | None = None
    error: str | None = None


def post(url: str, headers: dict[str, str], body: bytes, timeout: float) -> Attempt:
    """POST ``body`` to ``url``: resolved and checked now, connected to the checked address,
    no redirects followed, at most ``timeout`` seconds per network step."""
    try:
        scheme, host, port = _split_url(url)
        addresses = resolve(url)
    except UrlNotAllowed as exc:
        return Attempt(False, error=f"url_not_allowed: {exc.details}")
    except Invalid:
        return Attempt(False, error="url_not_allowed: not an http(s) URL")
    except OSError as exc:
        return Attempt(False, error=f"cannot resolve the host: {exc}")
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    cls = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    conn = cls(host, port, addresses[0], timeout)
    started = time.monotonic()
    try:
        conn.request("POST", target, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read(65536)
        if 200 <= resp.status < 300:
            return Attempt(True, resp.status)
        return Attempt(False, resp.status, f"HTTP {resp.status} {resp.reason}".strip())
    except TimeoutError:
        return Attempt(False, error=f"timed out after {time.monotonic() - started:.1f} s")
    except (OSError, http.client.HTTPException) as exc:
        return Attempt(False, error=f"{exc.__class__.__name__}: {exc}"[:500])
    finally:
        conn.close()
