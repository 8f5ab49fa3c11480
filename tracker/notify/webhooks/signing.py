"""Signing a message (Standard Webhooks) and posting it to the address the URL was checked at."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import socket
import ssl
import threading
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


class _Cut:
    """The whole-answer deadline of one delivery: when it passes, the connection's socket is
    shut down, which ends any read or write blocked on it at once (a per-read timeout would
    let a receiver that trickles a byte every few seconds hold the delivery for ever)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.fired = False
        self.sock: socket.socket | None = None

    def watch(self, sock: socket.socket) -> None:
        with self.lock:
            self.sock = sock
            if self.fired:
                sock.shutdown(socket.SHUT_RDWR)

    def fire(self) -> None:
        with self.lock:
            self.fired = True
            if self.sock is not None:
                try:
                    self.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # closed already


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address the SSRF check approved, not to a fresh lookup of the name."""

    def __init__(self, host: str, port: int, address: str, timeout: float, cut: _Cut) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address
        self.cut = cut

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        self.cut.watch(self.sock)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to the approved address, the certificate checked against the URL's host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float, cut: _Cut) -> None:
        self.context = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.context)
        self.address = address
        self.cut = cut

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.cut.watch(sock)
        self.sock = self.context.wrap_socket(sock, server_hostname=self.host)


@dataclass
class Attempt:
    """The outcome of one POST."""

    ok: bool
    status_code: int | None = None
    error: str | None = None


#: The most of an answer's body that is read (it is not kept; a receiver has nothing to say).
ANSWER_BYTES = 65536


def post(url: str, headers: dict[str, str], body: bytes, timeout: float,
         allow_loopback: bool | None = None) -> Attempt:
    """POST ``body`` to ``url``: resolved and checked now, connected to the checked address,
    no redirects followed; the whole answer must arrive within ``timeout`` seconds of the
    start (SPEC §6), or the delivery failed, whatever the receiver sent by then."""
    started = time.monotonic()
    try:
        scheme, host, port = _split_url(url)
        addresses = resolve(url, allow_loopback)
    except UrlNotAllowed as exc:
        return Attempt(False, error=f"url_not_allowed: {exc.details}")
    except Invalid:
        return Attempt(False, error="url_not_allowed: not an http(s) URL")
    except OSError as exc:
        return Attempt(False, error=f"cannot resolve the host: {exc}")
    left = timeout - (time.monotonic() - started)
    if left <= 0:
        return Attempt(False, error=f"timed out after {time.monotonic() - started:.1f} s "
                                    f"(resolving the host)")
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    cut = _Cut()
    cls = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    conn = cls(host, port, addresses[0], left, cut)
    timer = threading.Timer(left, cut.fire)
    timer.daemon = True
    timer.start()
    status: int | None = None
    try:
        conn.request("POST", target, body=body, headers=headers)
        resp = conn.getresponse()
        status = resp.status
        resp.read(ANSWER_BYTES)
        if cut.fired:
            raise TimeoutError
        if 200 <= resp.status < 300:
            return Attempt(True, resp.status)
        return Attempt(False, resp.status, f"HTTP {resp.status} {resp.reason}".strip())
    except (OSError, http.client.HTTPException) as exc:
        if cut.fired or isinstance(exc, TimeoutError):
            return Attempt(False, status, f"timed out: no whole answer within {timeout:g} s "
                                          f"(cut off after {time.monotonic() - started:.1f} s)")
        return Attempt(False, status, f"{exc.__class__.__name__}: {exc}"[:500])
    finally:
        timer.cancel()
        conn.close()
