"""Images decoded safely into metadata-free derivatives. Every sample is generated here or in
``tests.helpers.samples``; no binary fixtures."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageCms

from portfolio.core.uploads import UploadRejected
from portfolio.core.uploads.images import (
    Derivatives,
    decode_slots,
    make_derivatives,
    open_image,
)
from portfolio.core.uploads.sniffing import sniff
from tests.helpers.samples import blank_png, encoded, needs_heic_encoder, pdf, picture

MAX_PIXELS = 100_000_000


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header claims a size its few bytes of data do not hold."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 4096)) + chunk(b"IEND", b""))


@pytest.mark.parametrize(("fmt", "content_type"), [
    ("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp"),
    pytest.param("HEIF", "image/heic", marks=needs_heic_encoder),
])
def test_open_image_in_the_sniffed_format(fmt, content_type):
    data = encoded(picture((40, 30)), fmt)
    assert sniff(data, "image") == content_type
    image = open_image(io.BytesIO(data), "image", content_type, MAX_PIXELS)
    assert image.size == (40, 30)


def test_open_image_only_tries_the_sniffed_format():
    data = encoded(picture(), "PNG")
    with pytest.raises(UploadRejected, match=r"^photo\.jpg could not be read as an image$"):
        open_image(io.BytesIO(data), "photo.jpg", "image/jpeg", MAX_PIXELS)


def test_open_image_refuses_a_type_that_is_not_an_image():
    with pytest.raises(UploadRejected, match="could not be read as an image"):
        open_image(io.BytesIO(pdf()), "essay.pdf", "application/pdf", MAX_PIXELS)


def test_a_truncated_png_is_refused():
    noise = Image.effect_noise((200, 200), 60).convert("RGB")
    data = encoded(noise, "PNG")
    with pytest.raises(UploadRejected, match=r"^scan\.png could not be read as an image$"):
        open_image(io.BytesIO(data[:len(data) // 2]), "scan.png", "image/png", MAX_PIXELS)


def test_a_truncated_jpeg_is_refused_by_the_derivatives_too():
    data = encoded(Image.effect_noise((400, 300), 60).convert("RGB"), "JPEG")
    with pytest.raises(UploadRejected, match="could not be read as an image"):
        make_derivatives(io.BytesIO(data[:len(data) // 2]), "p.jpg", "image/jpeg", MAX_PIXELS)


def test_an_image_over_the_pixel_limit_is_refused_before_decoding():
    data = png_declaring(12_000, 10_000)
    with pytest.raises(UploadRejected) as refused:
        open_image(io.BytesIO(data), "photo.png", "image/png", MAX_PIXELS)
    assert str(refused.value) == (
        "photo.png is too large an image (120 megapixels; the limit is 100)")


def test_a_decompression_bomb_is_refused():
    before = Image.MAX_IMAGE_PIXELS
    with pytest.raises(UploadRejected, match=r"too large an image \(over 200 megapixels"):
        make_derivatives(io.BytesIO(png_declaring(20_000, 20_000)), "bomb.png", "image/png",
                         MAX_PIXELS)
    assert before == Image.MAX_IMAGE_PIXELS


def test_the_pixel_limit_is_per_call():
    data = encoded(picture((500, 400)), "PNG")
    with pytest.raises(UploadRejected, match=r"\(0\.2 megapixels; the limit is 0\.1\)$"):
        open_image(io.BytesIO(data), "a.png", "image/png", 100_000)
    assert open_image(io.BytesIO(data), "a.png", "image/png", 200_000).size == (500, 400)
    assert Image.MAX_IMAGE_PIXELS not in (100_000, 200_000)


def sensitive_jpeg() -> bytes:
    """400x200, red on the left and blue on the right, stored on its side (orientation 6:
    turn clockwise to view), with GPS, XMP, an ICC profile and a comment."""
    image = Image.new("RGB", (400, 200), "blue")
    image.paste("red", (0, 0, 200, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (51.0, 30.0, 12.5)
    gps[3], gps[4] = "W", (0.0, 7.0, 39.0)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf='
           b'"http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>')
    return encoded(image, "JPEG", exif=exif.tobytes(), icc_profile=icc, xmp=xmp,
                   comment=b"taken at 12 Acacia Avenue", quality=95)


def test_derivatives_are_upright_and_carry_no_metadata():
    data = sensitive_jpeg()
    source = io.BytesIO(data)
    assert b"Exif" in data and b"Acacia" in data and b"ns.adobe.com/xap" in data

    derived = make_derivatives(source, "site.jpg", "image/jpeg", MAX_PIXELS)

    assert isinstance(derived, Derivatives)
    assert (derived.width, derived.height) == (200, 400)
    assert source.getvalue() == data
    for blob, size in ((derived.preview, (200, 400)), (derived.thumbnail, (160, 320))):
        image = Image.open(io.BytesIO(blob))
        assert image.format == "JPEG" and image.mode == "RGB"
        assert image.size == size
        assert not image.getexif()
        assert not {"exif", "icc_profile", "xmp", "comment"} & image.info.keys()
        for marker in (b"Exif", b"ICC_PROFILE", b"ns.adobe.com/xap", b"Acacia", b"PhoneMaker"):
            assert marker not in blob
        # Turned clockwise: the stored left (red) is now at the top.
        top = image.getpixel((size[0] // 2, size[1] // 8))
        bottom = image.getpixel((size[0] // 2, size[1] * 7 // 8))
        assert top[0] > 200 and top[2] < 60
        assert bottom[2] > 200 and bottom[0] < 60


def test_large_images_fit_the_boxes():
    data = encoded(picture((4000, 1000)), "JPEG")
    derived = make_derivatives(io.BytesIO(data), "wide.jpg", "image/jpeg", MAX_PIXELS)
    assert (derived.width, derived.height) == (4000, 1000)
    assert Image.open(io.BytesIO(derived.preview)).size == (1600, 400)
    assert Image.open(io.BytesIO(derived.thumbnail)).size == (320, 80)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_transparency_becomes_white_rgb(mode):
    image = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    image.paste((200, 0, 0, 255), (0, 0, 25, 50))
    if mode == "P":
        image = image.convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
        image.info["transparency"] = image.getpixel((40, 25))
        data = encoded(image, "PNG", transparency=image.info["transparency"])
    else:
        data = encoded(image.convert(mode), "PNG")
    derived = make_derivatives(io.BytesIO(data), "logo.png", "image/png", MAX_PIXELS)
    preview = Image.open(io.BytesIO(derived.preview))
    assert preview.mode == "RGB"
    assert min(preview.getpixel((45, 25))) > 245


def test_sixteen_bit_grey_keeps_its_tone():
    data = encoded(Image.new("I;16", (20, 20), 30_000), "PNG")
    derived = make_derivatives(io.BytesIO(data), "xray.png", "image/png", MAX_PIXELS)
    assert 100 < Image.open(io.BytesIO(derived.preview)).getpixel((10, 10))[0] < 135


def test_cmyk_jpeg_becomes_rgb():
    data = encoded(picture(mode="CMYK"), "JPEG")
    derived = make_derivatives(io.BytesIO(data), "print.jpg", "image/jpeg", MAX_PIXELS)
    assert Image.open(io.BytesIO(derived.preview)).mode == "RGB"


@needs_heic_encoder
def test_heic_derivatives_are_upright_without_metadata():
    image = Image.new("RGB", (64, 32), "red")
    exif = Image.Exif()
    exif[0x0112] = 6
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (51.0, 30.0, 12.5)
    data = encoded(image, "HEIF", exif=exif.tobytes(), quality=60)
    derived = make_derivatives(io.BytesIO(data), "IMG_1.HEIC", "image/heic", MAX_PIXELS)
    assert (derived.width, derived.height) == (32, 64)
    preview = Image.open(io.BytesIO(derived.preview))
    assert preview.size == (32, 64) and not preview.getexif()
    assert b"Exif" not in derived.preview


def test_webp_derivatives():
    data = encoded(picture((800, 600), "RGBA"), "WEBP")
    derived = make_derivatives(io.BytesIO(data), "shot.webp", "image/webp", MAX_PIXELS)
    assert Image.open(io.BytesIO(derived.thumbnail)).size == (320, 240)


#: Python and Pillow (under 40 MB) plus the default budget of 192 MiB, with room to spare.
MEMORY_BOUND_MB = 250
# The peak of this process's own memory (VmHWM): getrusage's ru_maxrss would carry over the
# RSS of the pytest process it was forked from.
_PEAK_RSS = """
import io, re, sys
from portfolio.core.uploads.images import make_derivatives
from tests.helpers.samples import blank_png
data = blank_png(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
derived = make_derivatives(io.BytesIO(data), "plan.png", "image/png", 100_000_000)
with open("/proc/self/status") as status:
    peak_kb = int(re.search(r"VmHWM:\\s+(\\d+) kB", status.read()).group(1))
print(derived is not None, peak_kb // 1024)
"""


@pytest.mark.parametrize(("width", "height", "colour_type", "previewed"), [
    (10_000, 10_000, 2, False),  # 100 megapixels in a few hundred kilobytes: no preview
    (5_790, 5_790, 2, True),  # RGB at the limit (33.5 megapixels)
    (4_480, 4_480, 6, True),  # RGBA at the limit: decoded, then premultiplied
    (4_270, 4_270, 3, True),  # a palette with transparency: decoded, to RGBA, premultiplied
    (4_500, 4_500, 3, False),  # the same over the limit
])
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux's VmHWM")
def test_decoding_a_large_image_stays_within_a_memory_bound(width, height, colour_type,
                                                            previewed):
    """Peak resident memory of a fresh process (Python, Pillow and the test image included)
    decoding the image with the default settings."""
    result = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, str(width), str(height), str(colour_type)],
        capture_output=True, text=True, timeout=300, cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr
    made, peak_mb = result.stdout.split()
    assert made == str(previewed)
    assert int(peak_mb) < MEMORY_BOUND_MB


def test_an_image_too_large_to_decode_is_kept_without_derivatives():
    """20 megapixels of RGB take 6 bytes each: 4 decoded, 2 resampling and decoding."""
    data = blank_png(5_000, 4_000)
    assert make_derivatives(io.BytesIO(data), "plan.png", "image/png", MAX_PIXELS,
                            decode_max_bytes=119_999_999) is None
    assert make_derivatives(io.BytesIO(data), "plan.png", "image/png", MAX_PIXELS,
                            decode_max_bytes=120_000_000) is not None


def test_a_large_jpeg_is_decoded_reduced_so_the_decode_limit_counts_the_reduced_size():
    """24 megapixels decode at half scale (3000x2000, 6 bytes each), the smallest that still
    fills the preview's 1600 pixels."""
    data = encoded(Image.new("RGB", (6_000, 4_000), (90, 120, 200)), "JPEG")
    assert make_derivatives(io.BytesIO(data), "site.jpg", "image/jpeg", MAX_PIXELS,
                            decode_max_bytes=35_999_999) is None
    derived = make_derivatives(io.BytesIO(data), "site.jpg", "image/jpeg", MAX_PIXELS,
                               decode_max_bytes=36_000_000)
    assert (derived.width, derived.height) == (6_000, 4_000)
    assert Image.open(io.BytesIO(derived.preview)).size == (1_600, 1_067)


def test_decodes_beyond_the_cap_wait_for_a_turn():
    data = encoded(picture((800, 600)), "PNG")
    results = []

    def decode():
        results.append(make_derivatives(io.BytesIO(data), "a.png", "image/png", MAX_PIXELS,
                                        concurrent_decodes=1))

    slot = decode_slots(1)
    with slot:  # the one turn, taken by another decode
        waiting = threading.Thread(target=decode)
        waiting.start()
        waiting.join(0.5)
        assert waiting.is_alive() and not results
    waiting.join(10)
    assert not waiting.is_alive() and isinstance(results[0], Derivatives)
