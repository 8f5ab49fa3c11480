"""Thumbnails against decompression bombs (issue 20, finding 7; SPEC §7).

A PNG of a few hundred KB that declares 8944 x 8944 pixels is judged from its header: no
thumbnail is made, the evidence is kept, and the process that looked at it grows by a few
megabytes at most, measured in a fresh interpreter's peak resident memory.
"""

from __future__ import annotations

import functools
import io
import json
import os
import struct
import subprocess
import sys
import zlib
from typing import Any

import pytest

from tracker.issues.evidence import service as evidence
from tracker.issues.evidence import thumbnails

SIDE = 8944


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


@functools.cache
def bomb_png(side: int = SIDE) -> bytes:
    """A 1-bit PNG of side x side white pixels, written row by row (never held decoded)."""
    packer = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * ((side + 7) // 8)  # filter byte "none", then the bits
    body = b"".join(packer.compress(row) for _n in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body)
            + _chunk(b"IEND", b""))


PROBE = """
import json, sys, time
def peak():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:"))
from tracker.issues.evidence.thumbnails import make_thumbnail
import PIL.PngImagePlugin, PIL.JpegImagePlugin  # loaded before the baseline
before = peak()
started = time.monotonic()
made = make_thumbnail(sys.argv[1], sys.argv[2])
print(json.dumps({"made": made, "seconds": time.monotonic() - started,
                  "grew_kb": peak() - before}))
"""


def _probe(tmp_path: Any, data: bytes) -> dict[str, Any]:
    source = tmp_path / "picture.png"
    source.write_bytes(data)
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(source), str(tmp_path / "thumb.jpg")],
        capture_output=True, text=True, timeout=120, check=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_bomb_is_small_on_disk():
    data = bomb_png()
    assert len(data) < 400_000


def test_a_png_bomb_is_judged_from_its_header(tmp_path):
    result = _probe(tmp_path, bomb_png())
    assert result["made"] is False
    # Decoding it would take 80 MB as bits and far more resized; reading the header, little.
    assert result["grew_kb"] < 16 * 1024, result
    assert result["seconds"] < 2, result
    assert not (tmp_path / "thumb.jpg").exists()


def test_an_ordinary_picture_still_gets_its_thumbnail(tmp_path):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (2000, 1500), (30, 90, 200)).save(buf, "PNG")
    result = _probe(tmp_path, buf.getvalue())
    assert result["made"] is True and (tmp_path / "thumb.jpg").exists()


@pytest.mark.parametrize(("mode", "size", "allowed"), [
    ("RGB", (4000, 3000), True),       # a 12 MP phone photo: 36 MB
    ("RGB", (8000, 6000), False),      # 48 MP decoded whole (a HEIC, a PNG): 144 MB
    ("P", (4096, 4096), True),         # 64 MB as RGBA
    ("P", (4097, 4096), False),
    ("1", (SIDE, SIDE), False),
])
def test_the_budget_counts_what_decoding_takes(mode, size, allowed):
    fits = thumbnails.decoded_bytes(mode, *size) <= thumbnails.MAX_DECODED_BYTES
    assert fits is allowed


def test_the_bomb_is_kept_as_evidence_without_a_thumbnail(world, make):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       actor=world.registrar, status="in_progress")
    ev = evidence.add_evidence(world.officer, issue, io.BytesIO(bomb_png()), "截图.png")
    assert ev.content_type == "image/png" and ev.thumb_name is None
