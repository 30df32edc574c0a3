"""Images decoded safely into metadata-free derivatives. Every sample is generated here or in
``tests.helpers.samples``; no binary fixtures."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, ImageCms

from portfolio.core.uploads import UploadRejected
from portfolio.core.uploads.images import Derivatives, make_derivatives, open_image
from portfolio.core.uploads.sniffing import sniff
from tests.helpers.samples import encoded, needs_heic_encoder, pdf, picture

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
