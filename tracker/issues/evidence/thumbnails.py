"""Thumbnails of image evidence: made once at upload, shown on the issue page.

The thumbnail is a small JPEG turned upright by the photo's EXIF orientation and saved
without any metadata: no location, no camera, no time.  The original stays as it was
uploaded, byte for byte, with its SHA-256.  HEIC/HEIF photos (iPhones) are read through
pillow-heif.  A picture that cannot be read gets no thumbnail; the evidence is kept.
"""

from __future__ import annotations

import logging
import os
import warnings

from PIL import Image, ImageOps

log = logging.getLogger(__name__)

#: The longest side of a thumbnail, in pixels (shown at half that on high-density screens).
THUMB_SIZE = 320
#: Larger pictures are not decoded for a thumbnail (a decompression bomb, not a photo).
MAX_PIXELS = 80_000_000

_heif_registered = False


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        from pillow_heif import register_heif_opener

        register_heif_opener()
        _heif_registered = True


def make_thumbnail(source: str, target: str) -> bool:
    """Write the thumbnail of the image at ``source`` to ``target``; whether it could."""
    _register_heif()
    tmp = target + ".part"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as im:
                if im.width * im.height > MAX_PIXELS:
                    return False
                im.draft("RGB", (THUMB_SIZE * 2, THUMB_SIZE * 2))  # JPEG: decode smaller
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
