"""What an upload is, decided from its first bytes alone.

The learner's file name and the browser's claimed type prove nothing and appear only in
messages; anything not in ``ACCEPTED`` is refused with a message the learner can act on.

For ZIP-based and compound Office files the head names only the container; the whole file's
structure then decides (:func:`portfolio.core.uploads.containers.check_container`).
"""

from __future__ import annotations

import codecs
import re
import struct
from collections.abc import Iterator

from portfolio.core.uploads import UploadRejected, display_name

HEAD_SIZE = 8 * 1024

OLE_STORAGE = "application/x-ole-storage"
OOXML = "application/x-ooxml"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

ACCEPTED: dict[str, str] = {
    "application/pdf": "PDF document",
    # Word, Excel and PowerPoint 97-2003 share one container whose head does not say which.
    OLE_STORAGE: "Office document",
    DOCX: "Word document",
    XLSX: "Excel spreadsheet",
    PPTX: "PowerPoint presentation",
    # What the head says of a ZIP that starts like OOXML; its structure then names it (or
    # refuses it). Files stored before that check may still carry it.
    OOXML: "Office document",
    "application/vnd.oasis.opendocument.text": "OpenDocument text",
    "application/vnd.oasis.opendocument.spreadsheet": "OpenDocument spreadsheet",
    "application/vnd.oasis.opendocument.presentation": "OpenDocument presentation",
    "application/vnd.oasis.opendocument.graphics": "OpenDocument drawing",
    "text/plain": "text file",
    "image/jpeg": "JPEG image",
    "image/png": "PNG image",
    "image/webp": "WebP image",
    "image/heic": "HEIC image",
    "audio/mpeg": "MP3 audio",
    "audio/mp4": "M4A audio",
    "audio/wav": "WAV audio",
    "video/mp4": "MP4 video",
    "video/quicktime": "QuickTime video",
    "video/webm": "WebM video",
}

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic"})

#: The file name extensions that open each accepted type as that type, the usual one first. A
#: download keeps its name only with one of these: ``marking-guide.bat`` that is text is served
#: as ``marking-guide.bat.txt``, never as something a computer would run.
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    OLE_STORAGE: (".doc", ".xls", ".ppt", ".dot", ".xlt", ".pot"),
    DOCX: (".docx",),
    XLSX: (".xlsx",),
    PPTX: (".pptx",),
    OOXML: (".docx", ".xlsx", ".pptx"),
    "application/vnd.oasis.opendocument.text": (".odt",),
    "application/vnd.oasis.opendocument.spreadsheet": (".ods",),
    "application/vnd.oasis.opendocument.presentation": (".odp",),
    "application/vnd.oasis.opendocument.graphics": (".odg",),
    "text/plain": (".txt", ".csv", ".log", ".md"),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "image/webp": (".webp",),
    "image/heic": (".heic", ".heif"),
    "audio/mpeg": (".mp3",),
    "audio/mp4": (".m4a",),
    "audio/wav": (".wav",),
    "video/mp4": (".mp4", ".m4v"),
    "video/quicktime": (".mov",),
    "video/webm": (".webm",),
}


def download_name(name: str, content_type: str) -> str:
    """``name`` if its extension fits the sniffed type, else ``name`` with the usual one added."""
    allowed = EXTENSIONS[content_type]
    extension = name[name.rfind("."):].lower() if "." in name else ""
    return name if extension in allowed else f"{name}{allowed[0]}"


def _refused(name: str) -> UploadRejected:
    return UploadRejected(
        f"{name} is not a PDF, Office or OpenDocument file, text, image, audio or video file "
        "we accept")


_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_LOCAL = b"PK\x03\x04"
# signature, version, flags, method, time, date, crc, compressed size, size, name length, extra
_ZIP_HEADER = struct.Struct("<4sHHHHHIIIHH")
_OOXML_FIRST = (b"_rels/", b"docProps/", b"word/", b"xl/", b"ppt/")
_OOXML_PARTS = ((b"word/", DOCX), (b"xl/", XLSX), (b"ppt/", PPTX))
_ODF_MIMETYPE = re.compile(rb"application/vnd\.oasis\.opendocument\.[a-z0-9.+-]+")

_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"}
_M4A_BRANDS = {b"M4A ", b"M4B "}
_MP4_BRANDS = {b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42",
               b"avc1", b"dash", b"3gp4", b"3gp5", b"3g2a"}
_QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free"}

_EBML = b"\x1a\x45\xdf\xa3"
_EBML_DOCTYPE = b"\x42\x82"

_BOM = codecs.BOM_UTF8
_WHITESPACE = b" \t\r\n\f\v"


def sniff(head: bytes, filename: str) -> str:
    """The content type of a file from its first bytes (at least ``HEAD_SIZE`` of them when the
    file is that long); raises ``UploadRejected`` for anything not in ``ACCEPTED``."""
    name = display_name(filename)
    if not head:
        raise UploadRejected(f"{name} is empty")
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(_OLE2):
        return OLE_STORAGE
    if head.startswith(_ZIP_LOCAL):
        return _sniff_zip(head, name)
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[4:8] == b"ftyp" and (content_type := _sniff_ftyp(head)) is not None:
        return content_type
    if head.startswith(_EBML):
        if _ebml_doc_type(head) == b"webm":
            return "video/webm"
        raise _refused(name)
    if _is_mpeg_audio(head):
        return "audio/mpeg"
    if _is_text(head):
        if _after_whitespace(head).startswith(b"<"):
            raise UploadRejected(
                f"{name} is a web page, XML or SVG file, which we do not accept: save or export "
                "it as PDF or as an image")
        return "text/plain"
    if _is_quicktime_atom(head):
        return "video/quicktime"
    raise _refused(name)


def _zip_entries(head: bytes) -> Iterator[tuple[int, bytes, int, int, int]]:
    """(offset, name, method, compressed size, data offset) of the local headers in the head.

    Compressed data may contain the signature by chance; callers only test names against
    fixed prefixes, so a stray match cannot turn an archive into a document.
    """
    pos = 0
    while (pos := head.find(_ZIP_LOCAL, pos)) != -1 and pos + _ZIP_HEADER.size <= len(head):
        _, _, _, method, _, _, _, compressed, _, name_length, extra_length = (
            _ZIP_HEADER.unpack_from(head, pos))
        name_start = pos + _ZIP_HEADER.size
        name = head[name_start:name_start + name_length]
        yield pos, name, method, compressed, name_start + name_length + extra_length
        pos += len(_ZIP_LOCAL)


def _sniff_zip(head: bytes, name: str) -> str:
    entries = list(_zip_entries(head))
    if not entries or entries[0][0] != 0:
        raise _refused(name)
    _, first, method, compressed, data_start = entries[0]
    if first == b"mimetype":
        # OpenDocument stores its type uncompressed so that it can be read exactly like this.
        match = _ODF_MIMETYPE.fullmatch(head[data_start:data_start + compressed])
        mimetype = match.group().decode("ascii") if match and method == 0 else ""
        if mimetype in ACCEPTED:
            return mimetype
        raise _refused(name)
    if first == b"[Content_Types].xml" or first.startswith(_OOXML_FIRST):
        for _, entry, _, _, _ in entries:
            for prefix, content_type in _OOXML_PARTS:
                if entry.startswith(prefix):
                    return content_type
        return OOXML
    raise UploadRejected(
        f"{name} is a ZIP archive, which we do not accept: upload the files inside it one by one")


def _sniff_ftyp(head: bytes) -> str | None:
    """HEIC, M4A, MP4 and modern QuickTime name their family in an ISO base media ftyp box:
    the major brand first, then the compatible ones."""
    size = int.from_bytes(head[:4], "big")
    if size < 16:
        return None
    end = min(size, len(head))
    for brand in [head[8:12]] + [head[i:i + 4] for i in range(16, end - 3, 4)]:
        if brand in _HEIC_BRANDS:
            return "image/heic"
        if brand in _M4A_BRANDS:
            return "audio/mp4"
        if brand in _MP4_BRANDS:
            return "video/mp4"
        if brand == b"qt  ":
            return "video/quicktime"
    return None


def _is_quicktime_atom(head: bytes) -> bool:
    """Older QuickTime files start straight with an atom. Four letters at offset 4 are weak
    evidence, so this runs after the text check ("I'm free" is not a film)."""
    size = int.from_bytes(head[:4], "big")
    return head[4:8] in _QUICKTIME_ATOMS and (size >= 8 or size in (0, 1))


def _vint_length(first: int) -> int:
    """EBML variable-length integers announce their length by their leading zero bits."""
    return 9 - first.bit_length() if first else 0


def _read_vint(data: bytes, pos: int) -> tuple[int, int] | None:
    length = _vint_length(data[pos]) if pos < len(data) else 0
    if not length or pos + length > len(data):
        return None
    value = data[pos] & (0xFF >> length)
    for byte in data[pos + 1:pos + length]:
        value = value << 8 | byte
    return value, length


def _ebml_doc_type(head: bytes) -> bytes | None:
    header = _read_vint(head, len(_EBML))
    if header is None:
        return None
    header_size, length = header
    pos = len(_EBML) + length
    end = min(pos + header_size, len(head))
    while pos < end:
        id_length = _vint_length(head[pos])
        if not id_length:
            return None
        element_id = head[pos:pos + id_length]
        element = _read_vint(head, pos + id_length)
        if element is None:
            return None
        size, length = element
        pos += id_length + length
        if element_id == _EBML_DOCTYPE:
            return head[pos:pos + size].rstrip(b"\0")
        pos += size
    return None


def _is_mpeg_audio(head: bytes) -> bool:
    if head.startswith(b"ID3") and len(head) >= 10:
        # ID3v2.2-2.4, then flags and a size made of four 7-bit bytes.
        return 2 <= head[3] <= 4 and head[4] != 0xFF and all(b < 0x80 for b in head[6:10])
    if len(head) >= 3 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        version = head[1] >> 3 & 0b11
        layer = head[1] >> 1 & 0b11
        bitrate = head[2] >> 4
        sample_rate = head[2] >> 2 & 0b11
        # 01 is a reserved version, 00 a reserved layer (ADTS AAC uses it), 1111 a bad bitrate
        # and 11 a reserved sample rate.
        return version != 0b01 and layer != 0 and bitrate != 0b1111 and sample_rate != 0b11
    return False


def _is_text(head: bytes) -> bool:
    if b"\0" in head:
        return False
    try:
        # Not final: the head may end part-way through a multi-byte character.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _after_whitespace(head: bytes) -> bytes:
    while True:
        stripped = head.lstrip(_WHITESPACE).removeprefix(_BOM)
        if stripped == head:
            return head
        head = stripped
