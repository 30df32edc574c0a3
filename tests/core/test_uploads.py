"""The upload path: sniffing from content, streaming with a hash and a limit, and images decoded
safely into metadata-free derivatives. Every sample is generated here; no binary fixtures."""

from __future__ import annotations

import hashlib
import io
import random
import struct
import wave
import zipfile
import zlib

import pillow_heif
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageCms

from portfolio.core.uploads import (
    ACCEPTED,
    DOCX,
    HEAD_SIZE,
    IMAGE_TYPES,
    OLE_STORAGE,
    OOXML,
    PPTX,
    XLSX,
    Derivatives,
    StreamReader,
    UploadRejected,
    human_size,
    make_derivatives,
    open_image,
    sniff,
)

MAX_PIXELS = 100_000_000
HEIC_ENCODER = bool(pillow_heif.libheif_info().get("HEIF"))
needs_heic_encoder = pytest.mark.skipif(not HEIC_ENCODER,
                                        reason="this libheif build has no HEVC encoder")
REFUSED = "is not a PDF, Office or OpenDocument file, text, image, audio or video file we accept"


# --- Samples ---------------------------------------------------------------------------------

def pdf() -> bytes:
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
            b"trailer << /Root 1 0 R >>\n%%EOF\n")


def ooxml(*parts: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        for part in parts:
            archive.writestr(part, '<?xml version="1.0"?><root/>')
    return buffer.getvalue()


def odf(mimetype: str, compress_type: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=compress_type)
        archive.writestr("content.xml", '<?xml version="1.0"?><office:document-content/>')
        archive.writestr("META-INF/manifest.xml", '<?xml version="1.0"?><manifest/>')
    return buffer.getvalue()


def picture(size=(64, 48), mode="RGB") -> Image.Image:
    return Image.linear_gradient("L").resize(size).convert(mode)


def encoded(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x01" * 800)
    return buffer.getvalue()


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    box = major + b"\x00\x00\x02\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(box)) + b"ftyp" + box + b"\x00\x00\x00\x08free"


def ebml_header(doc_type: bytes) -> bytes:
    def element(element_id: bytes, data: bytes) -> bytes:
        return element_id + bytes([0x80 | len(data)]) + data

    body = b"".join([
        element(b"\x42\x86", b"\x01"),  # EBMLVersion
        element(b"\x42\xf7", b"\x01"),  # EBMLReadVersion
        element(b"\x42\xf2", b"\x04"),  # EBMLMaxIDLength
        element(b"\x42\xf3", b"\x08"),  # EBMLMaxSizeLength
        element(b"\x42\x82", doc_type),
        element(b"\x42\x87", b"\x04"),  # DocTypeVersion
        element(b"\x42\x85", b"\x02"),  # DocTypeReadVersion
    ])
    segment = b"\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff"
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(body)]) + body + segment


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header claims a size its few bytes of data do not hold."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 4096)) + chunk(b"IEND", b""))


TEXT = "Reflective account – café, 日本語, ✓ and 🙂 all in UTF-8.\n".encode()

ACCEPTED_SAMPLES = {
    "pdf": (pdf(), "application/pdf"),
    "ole2": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), OLE_STORAGE),
    "docx": (ooxml("word/document.xml", "word/styles.xml"), DOCX),
    "xlsx": (ooxml("xl/workbook.xml"), XLSX),
    "pptx": (ooxml("ppt/presentation.xml"), PPTX),
    "ooxml": (ooxml("docProps/core.xml"), OOXML),
    "odt": (odf("application/vnd.oasis.opendocument.text"),
            "application/vnd.oasis.opendocument.text"),
    "ods": (odf("application/vnd.oasis.opendocument.spreadsheet"),
            "application/vnd.oasis.opendocument.spreadsheet"),
    "text": (TEXT * 3, "text/plain"),
    "text with bom": (b"\xef\xbb\xbf" + TEXT, "text/plain"),
    "jpeg": (encoded(picture(), "JPEG"), "image/jpeg"),
    "png": (encoded(picture(), "PNG"), "image/png"),
    "webp": (encoded(picture(), "WEBP"), "image/webp"),
    "heic brand": (ftyp(b"heic", b"mif1", b"heic"), "image/heic"),
    "heif mif1": (ftyp(b"mif1", b"mif1", b"heic"), "image/heic"),
    "wav": (wav(), "audio/wav"),
    "mp3 id3": (b"ID3\x04\x00\x00\x00\x00\x01\x00" + bytes(256), "audio/mpeg"),
    "mp3 frame": (b"\xff\xfb\x90\x64" + bytes(413), "audio/mpeg"),
    "m4a": (ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"), "audio/mp4"),
    "mp4": (ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), "video/mp4"),
    "3gp": (ftyp(b"3gp5", b"3gp5", b"isom"), "video/mp4"),
    "mov ftyp": (ftyp(b"qt  ", b"qt  "), "video/quicktime"),
    "mov atom": (b"\x00\x00\x00\x08wide\x00\x01\x00\x00mdat" + bytes(64), "video/quicktime"),
    "webm": (ebml_header(b"webm"), "video/webm"),
}


# --- Sniffing --------------------------------------------------------------------------------

@pytest.mark.parametrize("sample", ACCEPTED_SAMPLES)
def test_sniff_accepts(sample):
    data, expected = ACCEPTED_SAMPLES[sample]
    # The extension proves nothing: every sample is named as something else.
    assert sniff(data[:HEAD_SIZE], "upload.exe") == expected
    assert expected in ACCEPTED


@needs_heic_encoder
def test_sniff_accepts_a_real_heic():
    data = encoded(picture(), "HEIF", quality=50)
    assert sniff(data, "IMG_0001.HEIC") == "image/heic"


def test_image_types_are_accepted_types():
    assert set(IMAGE_TYPES) == {"image/jpeg", "image/png", "image/webp", "image/heic"}
    assert IMAGE_TYPES.issubset(ACCEPTED)


def test_text_cut_inside_a_multibyte_character_at_the_end_of_the_head():
    data = ("é" * HEAD_SIZE).encode()
    head = data[:HEAD_SIZE + 1]
    with pytest.raises(UnicodeDecodeError):
        head.decode()
    assert sniff(head, "notes.txt") == "text/plain"


def test_empty_is_refused_by_name():
    with pytest.raises(UploadRejected, match=r"^holiday\.pdf is empty$"):
        sniff(b"", "holiday.pdf")


REFUSED_SAMPLES = {
    "elf named pdf": (b"\x7fELF\x02\x01\x01\x00" + bytes(56) + b"\x02\x00\x3e\x00", "report.pdf"),
    "exe named pdf": (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(50),
                      "report.pdf"),
    "random bytes": (random.Random(20240501).randbytes(HEAD_SIZE), "photo.jpg"),
    "latin-1 text": ("Café au lait".encode("latin-1"), "menu.txt"),
    "aac adts": (b"\xff\xf1\x50\x80\x02\x1f\xfc" + bytes(64), "voice.mp3"),
    "matroska": (ebml_header(b"matroska"), "film.webm"),
    "unknown ftyp": (ftyp(b"crx ", b"crx "), "raw.mp4"),
    "odf formula": (odf("application/vnd.oasis.opendocument.formula"), "sum.odt"),
    "odf compressed mimetype": (odf("application/vnd.oasis.opendocument.text",
                                    zipfile.ZIP_DEFLATED), "essay.odt"),
}


@pytest.mark.parametrize("sample", REFUSED_SAMPLES)
def test_sniff_refuses(sample):
    data, name = REFUSED_SAMPLES[sample]
    with pytest.raises(UploadRejected) as refused:
        sniff(data[:HEAD_SIZE], name)
    assert str(refused.value) == f"{name} {REFUSED}"


@pytest.mark.parametrize("markup", [
    b"<!DOCTYPE html><html><script>alert(1)</script></html>",
    b"  \r\n\t<HTML><body>hi</body></HTML>",
    b"\xef\xbb\xbf\n<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>",
    b"\n\xef\xbb\xbf <?xml version='1.0'?><svg/>",
    b"<sCrIpT>alert(1)</sCrIpT>",
])
def test_markup_is_refused_even_named_as_text(markup):
    with pytest.raises(UploadRejected, match=r"^notes\.txt is a web page, XML or SVG file"):
        sniff(markup, "notes.txt")


def test_a_plain_zip_named_docx_is_refused_as_an_archive():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photo.jpg", encoded(picture(), "JPEG"))
        archive.writestr("word/notes.txt", "not a document")
    with pytest.raises(UploadRejected, match=r"^essay\.docx is a ZIP archive"):
        sniff(buffer.getvalue(), "essay.docx")


def test_text_that_merely_contains_an_atom_name_is_text():
    assert sniff(b"I'm free to talk on Tuesday.\n", "notes.txt") == "text/plain"


SIGNATURES = [b"%PDF-", b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\xff\xd8\xff",
              b"\x89PNG\r\n\x1a\n", b"RIFF\x00\x00\x00\x00WEBP", b"\x00\x00\x00\x18ftyp",
              b"\x1a\x45\xdf\xa3", b"ID3\x03", b"\xff\xfb", b"\x00\x00\x00\x08moov", b"<", b""]


@given(st.one_of(st.binary(max_size=HEAD_SIZE),
                 st.tuples(st.sampled_from(SIGNATURES), st.binary(max_size=512)).map(b"".join)))
def test_sniff_only_accepts_or_rejects(head):
    try:
        content_type = sniff(head, "anything")
    except UploadRejected:
        return
    assert content_type in ACCEPTED


# --- Streaming -------------------------------------------------------------------------------

class Trickle(io.RawIOBase):
    """A non-seekable stream that answers short reads, like a socket, and records requests."""

    def __init__(self, data: bytes, most: int = 7000):
        self._data = io.BytesIO(data)
        self._most = most
        self.requests: list[int] = []

    def readable(self):
        return True

    def read(self, n=-1):
        self.requests.append(n)
        assert n is not None and n >= 0, "the upload was asked for everything at once"
        return self._data.read(min(n, self._most))


def drain(reader: StreamReader, n: int = -1) -> bytes:
    parts = []
    while part := reader.read(n):
        parts.append(part)
    return b"".join(parts)


@pytest.mark.parametrize("length", [1, 100, HEAD_SIZE - 1, HEAD_SIZE, HEAD_SIZE + 1, 300_001])
def test_stream_hash_size_and_replay(length):
    data = random.Random(length).randbytes(length)
    reader = StreamReader(Trickle(data), "clip.mp4", max_bytes=10**6, chunk_size=65_536)
    assert reader.peek_head() == data[:HEAD_SIZE]
    assert reader.peek_head() == data[:HEAD_SIZE]
    assert drain(reader) == data
    assert reader.exhausted
    assert reader.size == length
    assert reader.sha256 == hashlib.sha256(data).hexdigest()


def test_stream_shorter_than_the_head_replays_once():
    reader = StreamReader(io.BytesIO(b"hello"), "hello.txt", max_bytes=100)
    assert reader.peek_head() == b"hello"
    assert reader.read() == b"hello"
    assert reader.read() == b""
    assert reader.exhausted and reader.size == 5


def test_read_all_is_bounded_by_the_chunk_size():
    data = bytes(250_000)
    source = Trickle(data, most=10**9)
    reader = StreamReader(source, "big.wav", max_bytes=10**6, chunk_size=20_000)
    sizes = []
    while part := reader.read():
        sizes.append(len(part))
    assert max(sizes) == 20_000 and sum(sizes) == len(data)
    assert max(source.requests) <= max(HEAD_SIZE, 20_000)


def test_read_fills_the_request_despite_short_reads_underneath():
    data = random.Random(3).randbytes(50_000)
    source = Trickle(data, most=999)
    reader = StreamReader(source, "clip.mp4", max_bytes=10**6)
    reader.peek_head()
    assert [len(reader.read(12_000)) for _ in range(5)] == [12_000] * 4 + [2_000]
    assert not reader.exhausted
    assert reader.read(12_000) == b""
    assert reader.exhausted
    assert max(source.requests) <= 12_000


def test_the_limit_is_enforced_mid_stream():
    reader = StreamReader(Trickle(bytes(50_000)), "photo.jpg", max_bytes=10 * 1024)
    reader.read(4096)
    reader.read(4096)
    with pytest.raises(UploadRejected, match=r"^photo\.jpg is larger than the 10 KB limit$"):
        reader.read(4096)


def test_a_file_of_exactly_the_limit_is_accepted():
    reader = StreamReader(io.BytesIO(bytes(10_000)), "a.pdf", max_bytes=10_000)
    assert len(drain(reader, 3000)) == 10_000


def test_the_hash_is_refused_before_the_end():
    reader = StreamReader(io.BytesIO(bytes(100)), "a.pdf", max_bytes=1000)
    reader.read(10)
    with pytest.raises(RuntimeError):
        _ = reader.sha256


@given(st.binary(max_size=40_000), st.integers(1, 9000), st.integers(1, 5000))
def test_stream_property(data, chunk, most):
    reader = StreamReader(Trickle(data, most), "x", max_bytes=40_000, chunk_size=chunk)
    assert reader.peek_head() == data[:HEAD_SIZE]
    assert drain(reader) == data
    assert (reader.size, reader.sha256) == (len(data), hashlib.sha256(data).hexdigest())


@pytest.mark.parametrize("length", [5_000, 9 * 1024 * 1024 + 17])
def test_boto3_upload_fileobj_stores_every_byte(length):
    """upload_fileobj takes a short read of a non-seekable stream for its end; check the object
    it sends, in one PUT and in parts, is the whole file."""
    boto3 = pytest.importorskip("boto3")
    from boto3.s3.transfer import TransferConfig
    from botocore.stub import ANY, Stubber

    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="test",
                          aws_secret_access_key="test")
    sent: list[bytes] = []

    def capture(params, **kwargs):
        body = params["Body"]
        if hasattr(body, "read"):
            position = body.tell()
            sent.append(body.read())
            body.seek(position)
        else:
            sent.append(bytes(body))

    client.meta.events.register("before-parameter-build.s3.PutObject", capture)
    client.meta.events.register("before-parameter-build.s3.UploadPart", capture)
    data = random.Random(length).randbytes(length)
    stubber = Stubber(client)
    if length < 8 * 1024 * 1024:
        stubber.add_response("put_object", {}, {"Bucket": "b", "Key": "k", "Body": ANY,
                                                "ChecksumAlgorithm": ANY})
    else:
        stubber.add_response("create_multipart_upload", {"UploadId": "u"},
                             {"Bucket": "b", "Key": "k", "ChecksumAlgorithm": ANY})
        for number in (1, 2):
            stubber.add_response("upload_part", {"ETag": f'"{number}"'},
                                 {"Bucket": "b", "Key": "k", "UploadId": "u",
                                  "PartNumber": number, "Body": ANY,
                                  "ChecksumAlgorithm": ANY})
        stubber.add_response("complete_multipart_upload", {}, {
            "Bucket": "b", "Key": "k", "UploadId": "u", "MultipartUpload": ANY})
    reader = StreamReader(Trickle(data, most=100_000), "clip.mp4", max_bytes=10**8)
    reader.peek_head()
    with stubber:
        client.upload_fileobj(reader, "b", "k", Config=TransferConfig(use_threads=False))
    stubber.assert_no_pending_responses()
    assert b"".join(sent) == data
    assert reader.exhausted and reader.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(("n", "text"), [
    (0, "0 bytes"), (1, "1 byte"), (1023, "1023 bytes"), (1024, "1 KB"),
    (1536 * 1024, "1.5 MB"), (10 * 1024 ** 2, "10 MB"), (2 * 1024 ** 3, "2 GB"),
])
def test_human_size(n, text):
    assert human_size(n) == text


# --- Images ----------------------------------------------------------------------------------

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
