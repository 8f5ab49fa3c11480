"""Thumbnails of image evidence: made once at upload, shown on the issue page.

The thumbnail is a small JPEG turned upright by the photo's EXIF orientation and saved
without any metadata: no location, no camera, no time.  The original stays as it was
uploaded, byte for byte, with its SHA-256.  HEIC/HEIF photos (iPhones) are read through
pillow-heif.  A picture that cannot be read, or whose header declares more pixels than
``MAX_DECODED_BYTES`` allows, gets no thumbnail; the evidence is kept.
"""

from __future__ import annotations

import logging
import os
import warnings

from PIL import Image, ImageOps

log = logging.getLogger(__name__)

#: The longest side of a thumbnail, in pixels (shown at half that on high-density screens).
THUMB_SIZE = 320
#: The most memory a picture may take once decoded for its thumbnail (SPEC §7: about 64 MB).
#: It is judged from the header, before a pixel is decoded: a 300 KB PNG can declare
#: 8944 x 8944 pixels, and decoding it would take a worker's gigabyte (a decompression bomb).
MAX_DECODED_BYTES = 64 * 1024 * 1024
#: Modes that resizing turns into four bytes a pixel (palette and bilevel pictures are
#: expanded to RGBA, alpha is kept); other modes take one byte a band.
_EXPANDED_MODES = frozenset({"1", "P", "PA", "LA", "RGBA", "RGBa", "CMYK", "I", "F"})
# Pillow's own guard, for any other Image.open of this process: it warns past this many
# pixels and refuses twice as many outright.
Image.MAX_IMAGE_PIXELS = MAX_DECODED_BYTES

_heif_registered = False


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        from pillow_heif import register_heif_opener

        register_heif_opener()
        _heif_registered = True


def decoded_bytes(mode: str, width: int, height: int) -> int:
    """The memory a picture of this mode and size takes decoded and resized."""
    per_pixel = 4 if mode in _EXPANDED_MODES else max(1, Image.getmodebands(mode))
    return width * height * per_pixel


def make_thumbnail(source: str, target: str) -> bool:
    """Write the thumbnail of the image at ``source`` to ``target``; whether it could."""
    _register_heif()
    tmp = target + ".part"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as im:  # reads the header only
                im.draft("RGB", (THUMB_SIZE * 2, THUMB_SIZE * 2))  # JPEG: decode smaller
                cost = decoded_bytes(im.mode, im.width, im.height)
                if cost > MAX_DECODED_BYTES:
                    log.warning("no thumbnail for %s: %sx%s %s would take %s MB to decode",
                                source, im.width, im.height, im.mode, cost // (1024 * 1024))
                    return False
                upright = ImageOps.exif_transpose(im)
                upright.thumbnail((THUMB_SIZE, THUMB_SIZE))
                if upright.mode in ("RGBA", "LA", "P"):
                    rgba = upright.convert("RGBA")
                    flat = Image.new("RGB", rgba.size, (255, 255, 255))
                    flat.paste(rgba, mask=rgba.getchannel("A"))
                    upright = flat
                elif upright.mode not in ("RGB", "L"):
                    upright = upright.convert("RGB")
                # No exif= and no icc_profile=: the thumbnail carries no metadata at all.
                upright.save(tmp, "JPEG", quality=80, optimize=True)
        os.replace(tmp, target)
        return True
    except Exception as exc:  # noqa: BLE001 - a thumbnail is a convenience, never a refusal
        log.warning("no thumbnail for %s: %s: %s", source, exc.__class__.__name__, exc)
        try:
            os.remove(tmp)
        except FileNotFoundError:
            pass
        return False
