"""Sniffing: the type of an upload decided from its content, whatever it is named. Every
sample is generated here or in ``tests.helpers.samples``; no binary fixtures."""

from __future__ import annotations

import io
import random
import struct
import wave
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portfolio.core.uploads import UploadRejected
from portfolio.core.uploads.sniffing import (
    ACCEPTED,
    DOCX,
    EXTENSIONS,
    HEAD_SIZE,
    IMAGE_TYPES,
    OLE_STORAGE,
    OOXML,
    PPTX,
    XLSX,
    download_name,
    sniff,
)
from tests.helpers.samples import encoded, needs_heic_encoder, pdf, picture

REFUSED = "is not a PDF, Office or OpenDocument file, text, image, audio or video file we accept"


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


def test_every_accepted_type_is_downloaded_under_an_extension_of_its_own():
    assert set(EXTENSIONS) == set(ACCEPTED)
    for content_type, extensions in EXTENSIONS.items():
        assert download_name("evidence", content_type) == f"evidence{extensions[0]}"
        assert download_name(f"Evidence{extensions[-1].upper()}", content_type) == \
            f"Evidence{extensions[-1].upper()}"
        assert download_name("evidence.exe", content_type).endswith(extensions[0])


#: Extensions that Windows, macOS or a desktop runs, installs or opens as something active.
PROGRAM_EXTENSIONS = [
    ".bat", ".cmd", ".com", ".exe", ".scr", ".pif", ".cpl", ".msi", ".msp", ".lnk", ".url",
    ".vbs", ".vbe", ".js", ".jse", ".wsf", ".wsh", ".hta", ".ps1", ".psm1", ".sh", ".command",
    ".app", ".jar", ".reg", ".inf", ".scf", ".html", ".htm", ".svg", ".xml", ".docm", ".xlsm",
    ".pptm", ".dotm", ".xlam", ".ppsx", ".ppsm", ".desktop", ".appimage", ".iso", ".img",
]


@pytest.mark.parametrize("extension", PROGRAM_EXTENSIONS)
def test_no_accepted_type_downloads_under_a_program_or_script_extension(extension):
    """Downloads are renamed rather than refused: the content is known to be the sniffed type,
    so a text file named ``guide.bat`` is only badly named. The allow-list per type covers the
    whole class; trailing dots and spaces, which Windows drops, change nothing."""
    for content_type, allowed in EXTENSIONS.items():
        assert extension not in allowed
        for name in (f"guide{extension}", f"guide{extension.upper()}", f"guide{extension}."):
            served = download_name(name, content_type)
            assert served.endswith(allowed[0]) and served.startswith(name)
