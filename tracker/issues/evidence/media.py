"""What the header of a phone video says: is it one, and how long it runs.

MP4 and MOV (QuickTime) are ISO base media files (ISO/IEC 14496-12): a row of boxes, each a
32-bit size and a four-letter type.  The first box is ``ftyp``, whose major brand says what the
file is (``isom``, ``mp42``, ``qt  ``…; HEIF still pictures use the same boxes with the brands
in ``HEIF_BRANDS``).  The length is in ``moov``/``mvhd``: a timescale (units a second) and a
duration in those units.  A phone often writes ``moov`` after the media data, at the end of
the file, so the boxes are walked by seeking from header to header: only the headers are read
(at most ``MAX_BOXES`` of them, a few bytes each), never the media, whatever the file's size.
"""

from __future__ import annotations

import os
from typing import BinaryIO

#: ISO-BMFF brands of HEIF still images (``ftyp`` major or compatible brand).
HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm",
                         b"hevs", b"mif1", b"msf1", b"avif", b"avis"})
#: Boxes looked at, at the top level and inside ``moov``, before giving up on a length.
MAX_BOXES = 64


def brands(head: bytes) -> set[bytes] | None:
    """The major and compatible brands of the ``ftyp`` box that starts ``head``, or None."""
    if len(head) < 16 or head[4:8] != b"ftyp":
        return None
    size = int.from_bytes(head[:4], "big")
    if size < 16:
        return None
    end = min(size, len(head))
    return {head[8:12]} | {head[i:i + 4] for i in range(16, end - 3, 4)}


def is_heif(head: bytes) -> bool:
    """Whether ``head`` starts an ISO-BMFF file whose brands say HEIF still image."""
    found = brands(head)
    return bool(found and found & HEIF_BRANDS)


def is_video(head: bytes) -> bool:
    """Whether ``head`` starts an MP4 or MOV file: an ``ftyp`` box whose major brand is not
    a still picture's (a HEIC photo is an ISO-BMFF file too)."""
    found = brands(head)
    return found is not None and head[8:12] not in HEIF_BRANDS


def _box(fh: BinaryIO, at: int, end: int) -> tuple[bytes, int, int] | None:
    """The box at ``at``: its type, where its content starts and where it ends; None past
    ``end`` or when the header is malformed."""
    if at + 8 > end:
        return None
    fh.seek(at)
    header = fh.read(16)
    if len(header) < 8:
        return None
    size, kind = int.from_bytes(header[:4], "big"), header[4:8]
    start = at + 8
    if size == 1:  # a 64-bit size follows the type
        if len(header) < 16:
            return None
        size, start = int.from_bytes(header[8:16], "big"), at + 16
    elif size == 0:  # to the end of the file (or of the parent)
        size = end - at
    if size < start - at or at + size > end:
        return None
    return kind, start, at + size


def _find(fh: BinaryIO, kind: bytes, start: int, end: int) -> tuple[int, int] | None:
    """The content of the first ``kind`` box among the boxes from ``start`` to ``end``."""
    at = start
    for _ in range(MAX_BOXES):
        box = _box(fh, at, end)
        if box is None:
            return None
        found, content, after = box
        if found == kind:
            return content, after
        at = after
    return None


def duration_seconds(path: str) -> int | None:
    """How long the video at ``path`` runs, in whole seconds (rounded), from its ``mvhd``
    box; None when the header does not say (no ``moov`` among the first boxes, an unknown
    duration, a malformed box)."""
    try:
        end = os.path.getsize(path)
        with open(path, "rb") as fh:
            moov = _find(fh, b"moov", 0, end)
            if moov is None:
                return None
            mvhd = _find(fh, b"mvhd", *moov)
            if mvhd is None:
                return None
            fh.seek(mvhd[0])
            body = fh.read(min(32, mvhd[1] - mvhd[0]))
    except OSError:
        return None
    if not body:
        return None
    if body[0] == 1:  # version 1: 64-bit times
        if len(body) < 32:
            return None
        timescale = int.from_bytes(body[20:24], "big")
        duration = int.from_bytes(body[24:32], "big")
        unknown = duration == 0xFFFFFFFFFFFFFFFF
    else:
        if len(body) < 20:
            return None
        timescale = int.from_bytes(body[12:16], "big")
        duration = int.from_bytes(body[16:20], "big")
        unknown = duration == 0xFFFFFFFF
    if timescale == 0 or unknown:
        return None
    seconds = (duration + timescale // 2) // timescale
    return seconds if seconds < 2**31 else None
