"""Images decoded safely and their derivatives made.

Pillow is restricted to the sniffed format and an explicit pixel limit; the thumbnail and the
preview are upright JPEG copies that carry no metadata from the original.

Memory is bounded, not only pixels. A 12 KB PNG can declare 10000x10000 pixels, which Pillow
decodes whole: 300 MB, and more again while converting. JPEG decodes at 1/2, 1/4 or 1/8 scale
(draft mode); PNG, WebP and HEIC cannot, so an image whose decoding and conversion would still
take more than ``decode_max_bytes`` gets no preview: it is accepted as a file (it is within the
pixel limit, and a large scan or plan is real evidence) and listed as a file to download.
Decodes also take turns: at most ``concurrent_decodes`` run at once in a process, whatever the
number of requests, so the worst case is that many times one decode.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import math
import threading
import warnings
from collections.abc import Iterator
from typing import BinaryIO

import pillow_heif
from PIL import ExifTags, Image, ImageFile, ImageOps

from portfolio.config import Settings
from portfolio.core.uploads import UploadRejected, display_name

pillow_heif.register_heif_opener()

THUMBNAIL_BOX = (320, 320)
PREVIEW_BOX = (1600, 1600)
JPEG_QUALITY = 82

_PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP",
                   "image/heic": "HEIF"}


@dataclasses.dataclass(frozen=True)
class Derivatives:
    """JPEG copies of an image, upright and without metadata; the original's upright size."""

    thumbnail: bytes
    preview: bytes
    width: int
    height: int


_pillow_globals = threading.Lock()
_QUARTER_TURNS = {5, 6, 7, 8}


@contextlib.contextmanager
def _pixel_limit(max_pixels: int) -> Iterator[None]:
    """Pillow reads its bomb limit from a module global and warns through the process-wide
    warnings filters; set both for one open at a time and put them back.

    Pillow refuses images over twice its limit outright. Between the limit and twice it only
    warns; the warning is silenced because ``_open`` refuses those with the exact size.
    """
    with _pillow_globals, warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = max_pixels
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = saved


@contextlib.contextmanager
def _unreadable_refused(name: str) -> Iterator[None]:
    try:
        yield
    except UploadRejected:
        raise
    except Exception as exc:
        # Pillow's parsers and decoders raise OSError, SyntaxError, ValueError, struct.error,
        # EOFError and more on bad input; Pillow's own fuzzing harness catches Exception too.
        raise UploadRejected(f"{name} could not be read as an image") from exc


def _megapixels(pixels: int, rounding=math.ceil) -> str:
    # Sizes round up and limits down, so an image just over the limit never reads as equal.
    return f"{rounding(pixels / 100_000) / 10:g}"


def _open(fileobj: BinaryIO, name: str, content_type: str,
          max_pixels: int) -> ImageFile.ImageFile:
    """Parse the header only, in the sniffed format, refusing images over ``max_pixels``."""
    pillow_format = _PILLOW_FORMATS.get(content_type)
    if pillow_format is None:
        raise UploadRejected(f"{name} could not be read as an image")
    try:
        with _pixel_limit(max_pixels):
            image = Image.open(fileobj, formats=[pillow_format])
    except Image.DecompressionBombError:
        raise UploadRejected(
            f"{name} is too large an image (over {_megapixels(2 * max_pixels)} megapixels; "
            f"the limit is {_megapixels(max_pixels, math.floor)})") from None
    pixels = image.width * image.height
    if pixels > max_pixels:
        image.close()
        raise UploadRejected(
            f"{name} is too large an image ({_megapixels(pixels)} megapixels; "
            f"the limit is {_megapixels(max_pixels, math.floor)})")
    return image


def open_image(fileobj: BinaryIO, filename: str, content_type: str,
               max_pixels: int) -> Image.Image:
    """The image decoded in full, so that a truncated file is refused here."""
    name = display_name(filename)
    with _unreadable_refused(name):
        image = _open(fileobj, name, content_type, max_pixels)
        try:
            image.load()
        except Exception:
            image.close()
            raise
        return image


def _fit(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    ratio = min(box[0] / size[0], box[1] / size[1], 1)
    return max(1, round(size[0] * ratio)), max(1, round(size[1] * ratio))


#: Bytes a pixel takes in Pillow's memory: one for one band, two for 16-bit grey, and four for
#: anything of several bands (RGB too) or 32 bits.
_NARROW_MODES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2}


def _working_bytes(image: Image.Image) -> int:
    """Bytes a pixel takes at the peak of making the derivatives: as decoded, plus the full-size
    copies :func:`_resizable` converts to and Pillow premultiplies alpha into, plus about two
    for resampling's intermediate image and the decoder's buffers (four for HEIF, whose decoder
    keeps its own planes). Calibrated by measured peaks (tests/core/test_images.py)."""
    working = _NARROW_MODES.get(image.mode, 4) + 2
    if image.format == "HEIF":
        working += 2
    if "transparency" in image.info:
        working += 4 + 4
    elif image.mode in ("RGBA", "LA"):
        working += 4
    elif image.mode.startswith("I;16"):
        working += 4 + 1
    elif image.mode in ("1", "P"):
        working += 4
    return working


def _resizable(image: Image.Image) -> Image.Image:
    """A mode that resizes well. ``convert`` and ``point`` keep ``info``, and with it the EXIF
    orientation that is applied after resizing, where there are fewer pixels to turn."""
    if "transparency" in image.info:
        # A palette entry or colour key marks transparency; blending would smudge both.
        return image.convert("RGBA")
    if image.mode.startswith("I;16"):
        # A plain conversion clips 16-bit samples at 255, turning the picture white.
        return image.convert("I").point(lambda v: v / 256, "L")
    if image.mode in ("1", "P"):
        return image.convert("RGB")
    return image


def _flatten(image: Image.Image) -> Image.Image:
    """JPEG holds no transparency: composite onto white, then plain RGB."""
    if image.mode in ("RGBA", "LA"):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", image.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image if image.mode == "RGB" else image.convert("RGB")


def _jpeg(image: Image.Image) -> bytes:
    # Pillow copies a JPEG comment from ``info`` into the saved file; nothing is carried over.
    image.info = {}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


@functools.cache
def decode_slots(concurrent_decodes: int) -> threading.BoundedSemaphore:
    """The process-wide turns for decoding images: one semaphore per configured number (a
    process has one setting, so in practice one semaphore)."""
    return threading.BoundedSemaphore(concurrent_decodes)


def make_derivatives(fileobj: BinaryIO, filename: str, content_type: str, max_pixels: int,
                     decode_max_bytes: int = Settings.image_decode_max_bytes,
                     concurrent_decodes: int = Settings.image_concurrent_decodes
                     ) -> Derivatives | None:
    """A thumbnail and a preview, upright, in RGB, stripped of EXIF, GPS, XMP, ICC and
    comments; the original is only read. None (no preview) when even the reduced decode would
    take more than ``decode_max_bytes``; refused over ``max_pixels`` or when unreadable."""
    name = display_name(filename)
    with _unreadable_refused(name), _open(fileobj, name, content_type, max_pixels) as image:
        width, height = image.size
        # JPEG decodes at 1/2, 1/4 or 1/8 scale for almost nothing; ask for the preview's size.
        # Other formats ignore this and keep their full size.
        image.draft("RGB", _fit(image.size, PREVIEW_BOX))
        if image.width * image.height * _working_bytes(image) > decode_max_bytes:
            return None
        with decode_slots(concurrent_decodes):
            # After the check: a PNG's EXIF may follow its pixels, so reading it decodes them.
            if image.getexif().get(ExifTags.Base.Orientation) in _QUARTER_TURNS:
                width, height = height, width
            return _derivatives(image, width, height)


def _derivatives(image: ImageFile.ImageFile, width: int, height: int) -> Derivatives:
    image.load()
    preview = _resizable(image)
    # Bilinear (area-weighted when shrinking) is as sharp as bicubic for the small ratios
    # left after draft, and markedly faster at this size.
    preview.thumbnail(PREVIEW_BOX, Image.Resampling.BILINEAR)
    ImageOps.exif_transpose(preview, in_place=True)
    preview = _flatten(preview)
    thumbnail = preview.copy()
    thumbnail.thumbnail(THUMBNAIL_BOX)
    return Derivatives(thumbnail=_jpeg(thumbnail), preview=_jpeg(preview),
                       width=width, height=height)
