"""Sample files for uploads, every one generated here: no binary fixtures."""

from __future__ import annotations

import io
import struct
import zlib

import pillow_heif
import pytest
from PIL import Image

# Pillow writes HEIF only once pillow_heif is registered, which the images module does on
# import. The tests rely on that rather than registering it themselves, so that the image tests
# notice if the application stops doing it.
import portfolio.core.uploads.images  # noqa: F401

HEIC_ENCODER = bool(pillow_heif.libheif_info().get("HEIF"))
needs_heic_encoder = pytest.mark.skipif(not HEIC_ENCODER,
                                        reason="this libheif build has no HEVC encoder")


#: A PDF of a little over 2 kB (a header, a trailer and padding), for the evidence tests.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b" " * 2000


def jpeg_with_location(width=640, height=480) -> bytes:
    """A JPEG carrying EXIF orientation 6 (rotate 90°) and a GPS position."""
    image = Image.new("RGB", (width, height), (200, 120, 40))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    return encoded(image, "JPEG", exif=exif)


def pdf() -> bytes:
    """A minimal well-formed PDF (a catalog and an empty page tree)."""
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
            b"trailer << /Root 1 0 R >>\n%%EOF\n")


def picture(size=(64, 48), mode="RGB") -> Image.Image:
    return Image.linear_gradient("L").resize(size).convert(mode)


def encoded(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def blank_png(width: int, height: int, colour_type: int = 2) -> bytes:
    """A PNG of ``width`` x ``height`` zero pixels, compressed row by row so that even a
    100-megapixel one is built in little memory (and is a few hundred kilobytes): colour type 2
    is RGB, 6 RGBA, 3 a palette with a transparent entry."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))

    channels = {2: 3, 6: 4, 3: 1}[colour_type]
    compressor = zlib.compressobj(9)
    row = bytes(1 + width * channels)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    extra = chunk(b"PLTE", bytes(3 * 256)) + chunk(b"tRNS", b"\x00") if colour_type == 3 else b""
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0))
            + extra + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
