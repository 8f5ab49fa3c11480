"""Webhooks against hostile receivers and addresses (issue 20, findings 5 and 13; SPEC §6).

* A receiver that sends its headers and then trickles its answer a byte at a time is cut off
  when the delivery's whole-answer deadline passes and recorded failed, and it holds up no
  other subscription's delivery in the same sweep.
* Every spelling of an address that leads to loopback, link-local, unspecified, broadcast or
  multicast is refused when saved; host names are not looked up when saved.
"""

# ruff: noqa: F811 - the shared fixtures are imported by name and requested by name
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

from tests.support.webhooks import deliveries as _deliveries
from tests.support.webhooks import hook_to, loopback  # noqa: F401 - fixtures
from tests.webhook_receiver import receiver
from tracker.notify.webhooks import service as webhooks

#: The whole-answer deadline the tests configure (the product's default is 10 s).
DEADLINE = 2.0
#: A trickling receiver sends this many bytes, one every TRICKLE_EVERY seconds: 30 s in all,
#: far beyond the deadline, so a sender that waits per read instead of per delivery shows.
TRICKLE_BYTES = 60
TRICKLE_EVERY = 0.5


@dataclass
class Trickler:
    """A receiver that answers 200 and its headers at once, then one body byte at a time."""

    url: str = ""
    secret: str | None = None
    requests: int = 0
    sent: int = 0
    stopped_at: float | None = None
    done: threading.Event = field(default_factory=threading.Event)


def _serve_trickle(state: Trickler, conn: socket.socket) -> None:
    with conn:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length:
            body += conn.recv(65536)
        state.requests += 1
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                     b"Content-Length: %d\r\n\r\n" % TRICKLE_BYTES)
        try:
            for _n in range(TRICKLE_BYTES):
                conn.sendall(b".")
                state.sent += 1
                if state.done.wait(TRICKLE_EVERY):
                    break
        except OSError:
            pass  # the sender cut the connection
        state.stopped_at = time.monotonic()


@contextmanager
def trickler() -> Iterator[Trickler]:
    """Serve a trickling receiver on a free port of 127.0.0.1 for the block."""
    state = Trickler()
    server = socket.create_server(("127.0.0.1", 0))
    state.url = f"http://127.0.0.1:{server.getsockname()[1]}/slow"

    def accept() -> None:
        while True:
            try:
                conn, _addr = server.accept()
            except OSError:
                return
            threading.Thread(target=_serve_trickle, args=(state, conn), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield state
    finally:
        state.done.set()
        server.close()


def test_a_trickling_receiver_is_cut_off_and_holds_up_no_one(config, hook_to, world, make):
    config(TRACKER_WEBHOOK_TIMEOUT=DEADLINE)
    with trickler() as slow, receiver() as fast:
        # The trickler is subscribed first, so its delivery is the first the sweep claims.
        slow_hook = hook_to(slow, ["issue.registered"])
        fast_hook = hook_to(fast, ["issue.registered"])
        make.issue(world.centre, world.officer, world.campaign, world.category)
        started = time.monotonic()
        result = webhooks.deliver()
        took = time.monotonic() - started
        fast_got = list(fast.requests)
        slow.done.set()
    assert slow.requests == 1 and slow.sent < TRICKLE_BYTES
    # The other subscription was delivered while the trickler still held its connection.
    assert [r.answered for r in fast_got] == [200] and fast_got[0].verified
    assert result.delivered == 1 and result.failed == 1
    assert took < TRICKLE_BYTES * TRICKLE_EVERY / 2, took
    (failed,) = _deliveries(slow_hook["id"])
    assert failed.status == "pending" and failed.delivered_at is None
    assert failed.attempt == 1 and "timed out" in (failed.error or "")
    assert f"{DEADLINE:g} s" in failed.error
    (delivered,) = _deliveries(fast_hook["id"])
    assert delivered.status == "delivered"


def test_the_fast_receiver_is_not_queued_behind_the_slow_one(config, hook_to, world, make):
    """The fast receiver's request arrives before the trickler is cut off, not after."""
    config(TRACKER_WEBHOOK_TIMEOUT=DEADLINE)
    arrived: dict[str, float] = {}
    with trickler() as slow, receiver() as fast:
        hook_to(slow, ["issue.registered"])
        hook_to(fast, ["issue.registered"])
        make.issue(world.centre, world.officer, world.campaign, world.category)
        webhooks.deliver()
        arrived["fast"] = time.monotonic() if fast.requests else float("inf")
        # Wait for the trickler's own thread to notice it was cut (bounded).
        deadline = time.monotonic() + 10
        while slow.stopped_at is None and time.monotonic() < deadline:
            time.sleep(0.05)
    assert slow.stopped_at is not None
    assert len(fast.requests) == 1
    # Sent while the trickler was still being waited for: it had sent only a few bytes.
    assert slow.sent <= DEADLINE / TRICKLE_EVERY + 3, slow.sent


BAD_URLS = [
    "http://[::ffff:127.0.0.1]/hook",      # IPv4-mapped loopback
    "http://[::ffff:7f00:1]/hook",         # the same, in hex
    "http://[::127.0.0.1]/hook",           # IPv4-compatible loopback
    "http://[64:ff9b::7f00:1]/hook",       # NAT64 of 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/hook",    # NAT64 of the metadata address
    "http://[2002:7f00:1::]/hook",         # 6to4 of 127.0.0.1
    "http://[2002:a9fe:a9fe::1]/hook",     # 6to4 of the metadata address
    "http://255.255.255.255/hook",         # broadcast
    "http://224.0.0.1/hook",               # multicast
    "http://239.255.255.250:1900/hook",    # multicast (SSDP)
    "http://[ff02::1]/hook",               # IPv6 multicast
    "http://[::]/hook",                    # IPv6 unspecified
    "http://[::1]/hook",                   # IPv6 loopback
    "http://2130706433/hook",              # 127.0.0.1 in decimal
    "http://0x7f000001/hook",              # in hex
    "http://0177.0.0.1/hook",              # in octal
    "http://0x7f.1/hook",                  # hex, shortened
    "http://127.1/hook",                   # shortened
    "http://127.0.0.1./hook",              # with the root's dot
    "http://0/hook",                       # 0.0.0.0
    "http://2852039166/hook",              # 169.254.169.254 in decimal
    "http://sub.localhost/hook",           # a name that always means loopback
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_every_spelling_of_a_forbidden_address_is_refused(api, world, config, url):
    resp = api.post("/api/v1/webhooks", user=world.admin,
                    json={"url": url, "events": ["issue.closed"]})
    assert resp.status_code == 422, (url, resp.get_json())
    assert resp.get_json()["reason"] == "url_not_allowed"


@pytest.mark.parametrize("url", ["http://[64:ff9b::a9fe:a9fe]/hook",
                                 "http://[::ffff:169.254.169.254]/hook",
                                 "http://224.0.0.1/hook"])
def test_link_local_and_multicast_stay_refused_when_loopback_is_allowed(api, world, loopback,
                                                                       url):
    resp = api.post("/api/v1/webhooks", user=world.admin,
                    json={"url": url, "events": ["issue.closed"]})
    assert resp.status_code == 422
    assert resp.get_json()["reason"] == "url_not_allowed"


@pytest.mark.parametrize("url", ["http://10.20.30.40:8080/hook", "http://[2002:a14:1e28::]/hook",
                                 "http://[64:ff9b::a14:1e28]/hook", "http://172.16.5.4/hook"])
def test_intranet_addresses_in_any_form_are_allowed(api, world, config, url):
    resp = api.post("/api/v1/webhooks", user=world.admin,
                    json={"url": url, "events": ["issue.closed"]})
    assert resp.status_code == 201, resp.get_json()


def test_a_host_name_is_not_looked_up_when_saved(api, world, config, monkeypatch):
    """The name is judged at each delivery; saving sends nothing to the network."""
    looked_up: list[str] = []
    real = socket.getaddrinfo

    def watched(host, *args, **kwargs):
        looked_up.append(host)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", watched)
    resp = api.post("/api/v1/webhooks", user=world.admin,
                    json={"url": "http://hooks.example.invalid/ledger",
                          "events": ["issue.closed"]})
    assert resp.status_code == 201, resp.get_json()
    resp = api.patch(f"/api/v1/webhooks/{resp.get_json()['id']}", user=world.admin,
                     json={"url": "http://other.example.invalid/ledger"})
    assert resp.status_code == 200, resp.get_json()
    assert looked_up == []


def test_a_name_is_judged_when_a_delivery_resolves_it(api, world, make, config):
    """A name saved while allowed and resolving to loopback now: the delivery is refused and
    recorded failed with the address it resolved to."""
    config(TRACKER_WEBHOOK_ALLOW_LOOPBACK=True)
    resp = api.post("/api/v1/webhooks", user=world.admin,
                    json={"url": "http://localhost:9/hook", "events": ["issue.registered"]})
    assert resp.status_code == 201, resp.get_json()
    config(TRACKER_WEBHOOK_ALLOW_LOOPBACK=False)
    make.issue(world.centre, world.officer, world.campaign, world.category)
    result = webhooks.deliver()
    assert result.failed == 1 and result.delivered == 0
    (delivery,) = _deliveries(resp.get_json()["id"])
    assert delivery.status == "pending" and delivery.delivered_at is None
    assert "url_not_allowed" in (delivery.error or "") and "loopback" in delivery.error
