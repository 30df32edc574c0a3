"""Office files judged by their whole structure, not their first bytes.

The head of a ZIP or a compound file only says which container it is: an MSI installer starts
like a Word 97 document, and a ZIP whose first entry is ``[Content_Types].xml`` may hold
anything after it. Here the container's directory is read (the ZIP's central directory, the
compound file's directory stream), with bounds on its size and number of entries; of the
content only the few bytes that name a document's type are read (OOXML's content types, ODF's
``mimetype``), never the document itself.

Macros are refused wherever their containers can name them: ``vbaProject.bin``, ActiveX
controls and macro-enabled content types in OOXML, ``Basic/`` and ``Scripts/`` in ODF, VBA
storages in compound files.
"""

from __future__ import annotations

import struct
import zipfile
from typing import BinaryIO
from xml.etree import ElementTree

from portfolio.core.uploads import UploadRejected
from portfolio.core.uploads.sniffing import ACCEPTED, DOCX, OLE_STORAGE, OOXML, PPTX, XLSX

#: A real document has tens to a few thousand parts; more is an archive or an attack on memory.
MAX_ENTRIES = 10_000
#: Bytes of ZIP central directory or compound-file directory read at most.
MAX_DIRECTORY_BYTES = 8 * 1024 * 1024
#: ``[Content_Types].xml`` is a few kilobytes in real documents.
MAX_CONTENT_TYPES_BYTES = 1024 * 1024

ODF_TYPES = frozenset(t for t in ACCEPTED if t.startswith("application/vnd.oasis.opendocument."))
#: The types whose head names only their container; :func:`check_container` names them finally.
CONTAINER_TYPES = frozenset({OLE_STORAGE, OOXML, DOCX, XLSX, PPTX, *ODF_TYPES})

#: OOXML main parts, with the content type each must declare, and what the file then is. The
#: macro-enabled variants (docm, xlsm, pptm) declare other types and are refused before this.
_OOXML_MAIN_PARTS = (
    ("/word/document.xml",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml", DOCX),
    ("/xl/workbook.xml",
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml", XLSX),
    ("/ppt/presentation.xml",
     "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml", PPTX),
)
#: Parts and content types (lower-cased) that carry code: VBA projects and their data, macro
#: enabled main parts, ActiveX controls.
_OOXML_CODE_PARTS = ("vbaproject.bin", "vbadata.xml")
_OOXML_CODE_TYPES = ("macroenabled", "vba", "activex")
_CONTENT_TYPES_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_ODF_MACRO_FOLDERS = ("basic/", "scripts/")


def _macros_refused(name: str) -> UploadRejected:
    return UploadRejected(
        f"{name} contains macros or controls that run code, which we do not accept: save a copy "
        "without them (as .docx, .xlsx, .pptx or OpenDocument) and upload that")


def _damaged(name: str) -> UploadRejected:
    return UploadRejected(f"{name} could not be read as a document: it may be damaged. Open it, "
                          "save it again and upload the copy")


def check_container(fileobj: BinaryIO, content_type: str, name: str) -> str:
    """The final type of a file whose head named a container type (see ``CONTAINER_TYPES``),
    read from its structure; raises ``UploadRejected`` with the reason otherwise. ``fileobj``
    must be seekable and is left at an unspecified position."""
    if content_type == OLE_STORAGE:
        _check_compound_file(fileobj, name)
        return OLE_STORAGE
    archive = _open_zip(fileobj, name)
    if content_type in ODF_TYPES:
        return _check_odf(archive, name)
    return _check_ooxml(archive, name)


# --- ZIP: OOXML and ODF -------------------------------------------------------------------------

_EOCD = struct.Struct("<4sHHHHIIH")
_EOCD_SIGNATURE = b"PK\x05\x06"


def _open_zip(fileobj: BinaryIO, name: str) -> zipfile.ZipFile:
    """The archive, once its end record has shown a directory within bounds: ``zipfile`` would
    otherwise read a central directory of any size into memory."""
    size = fileobj.seek(0, 2)
    tail_size = min(size, _EOCD.size + 0xFFFF)
    fileobj.seek(size - tail_size)
    tail = fileobj.read(tail_size)
    at = tail.rfind(_EOCD_SIGNATURE)
    if at == -1 or at + _EOCD.size > len(tail):
        raise _damaged(name)
    _, _, _, _, entries, directory_size, _, _ = _EOCD.unpack_from(tail, at)
    # ZIP64 marks its counts 0xFFFF; no document we accept needs it, so it is out of bounds too.
    if entries > MAX_ENTRIES or directory_size > MAX_DIRECTORY_BYTES:
        raise UploadRejected(f"{name} has too many parts to be a document we accept")
    fileobj.seek(0)
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise _damaged(name) from None
    names = [info.filename.lower() for info in archive.infolist()]
    if len(names) > MAX_ENTRIES:
        raise UploadRejected(f"{name} has too many parts to be a document we accept")
    if len(set(names)) != len(names):
        # Two entries of one name: readers disagree on which one counts.
        raise _damaged(name)
    return archive


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, name: str) -> bytes:
    try:
        with archive.open(info) as entry:
            data = entry.read(limit + 1)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, RuntimeError, NotImplementedError):
        # RuntimeError: encrypted; NotImplementedError: a compression zipfile cannot read.
        raise _damaged(name) from None
    if len(data) > limit:
        raise _damaged(name)
    return data


def _check_ooxml(archive: zipfile.ZipFile, name: str) -> str:
    infos = {info.filename.lower(): info for info in archive.infolist()}
    if any(part.endswith(_OOXML_CODE_PARTS) or "/activex/" in f"/{part}" for part in infos):
        raise _macros_refused(name)
    content_types = infos.get("[content_types].xml")
    if content_types is None:
        raise _incomplete(name)
    defaults, overrides = _content_types(
        _read_entry(archive, content_types, MAX_CONTENT_TYPES_BYTES, name), name)
    if any(marker in t for t in (*defaults.values(), *overrides.values())
           for marker in _OOXML_CODE_TYPES):
        raise _macros_refused(name)
    for part, main_type, content_type in _OOXML_MAIN_PARTS:
        if part[1:] in infos and overrides.get(part) == main_type:
            return content_type
    raise _incomplete(name)


def _incomplete(name: str) -> UploadRejected:
    return UploadRejected(
        f"{name} is not a complete Word, Excel or PowerPoint document (its main part is missing "
        "or of another kind): open it in its program, save it again and upload the copy")


def _content_types(data: bytes, name: str) -> tuple[dict[str, str], dict[str, str]]:
    """Extension defaults and part overrides, both lower-cased (OPC names ignore case)."""
    if b"<!DOCTYPE" in data.upper():
        # OPC forbids DTDs; refusing them rules out entity expansion in the parser.
        raise _damaged(name)
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        raise _damaged(name) from None
    defaults = {e.get("Extension", "").lower(): e.get("ContentType", "").lower()
                for e in root.iter(f"{_CONTENT_TYPES_NS}Default")}
    overrides = {e.get("PartName", "").lower(): e.get("ContentType", "").lower()
                 for e in root.iter(f"{_CONTENT_TYPES_NS}Override")}
    return defaults, overrides


def _check_odf(archive: zipfile.ZipFile, name: str) -> str:
    """The ``mimetype`` entry first, stored, at the very start, with a type we accept; and the
    central directory must agree with the head that said so."""
    infos = archive.infolist()
    first = infos[0] if infos else None
    if (first is None or first.filename != "mimetype" or first.header_offset != 0
            or first.compress_type != zipfile.ZIP_STORED):
        raise UploadRejected(f"{name} is not a valid OpenDocument file (its type is not its "
                             "first entry): open it in its program, save it again and upload "
                             "the copy")
    mimetype = _read_entry(archive, first, 100, name).decode("ascii", "replace")
    if mimetype not in ODF_TYPES:
        raise UploadRejected(f"{name} is an OpenDocument file of a kind we do not accept")
    if any(info.filename.lower().startswith(_ODF_MACRO_FOLDERS) for info in infos):
        raise _macros_refused(name)
    if "content.xml" not in {info.filename for info in infos}:
        raise _damaged(name)
    return mimetype


# --- Compound files (Word, Excel and PowerPoint 97-2003) ----------------------------------------

# signature, CLSID, minor and major version, byte order, sector shift, mini sector shift,
# reserved, directory sectors, FAT sectors, first directory sector, transaction signature, mini
# stream cutoff, first mini FAT sector, mini FAT sectors, first DIFAT sector, DIFAT sectors.
_CFB_HEADER = struct.Struct("<8s16sHHHHH6sIIIIIIIII")
_CFB_HEADER_DIFAT = 109
_END_OF_CHAIN = 0xFFFFFFFE
_MAX_SECTOR = 0xFFFFFFFA
_DIRECTORY_ENTRY = 128
_STREAM = 2

#: A document is Word, Excel or PowerPoint by the stream its program writes its content to.
_OFFICE_STREAMS = frozenset({"worddocument", "workbook", "book", "powerpoint document"})
#: Storages holding VBA projects: Word's ``Macros``, Excel's ``_VBA_PROJECT_CUR``, and the
#: ``VBA`` storage and ``_VBA_PROJECT`` stream inside them.
_VBA_NAMES = frozenset({"macros", "_vba_project_cur", "vba", "_vba_project"})


class _CompoundFile:
    """Just enough of [MS-CFB] to list the directory: the header, the FAT sectors the DIFAT
    names, and the directory stream's sector chain, each bounded and checked for loops."""

    def __init__(self, fileobj: BinaryIO, name: str):
        self._file, self._name = fileobj, name
        self._size = fileobj.seek(0, 2)
        header = self._read_at(0, 512)
        (_, _, _, major, byte_order, sector_shift, _, _, _, fat_sectors, self._first_directory,
         _, _, _, _, first_difat, difat_sectors) = _CFB_HEADER.unpack_from(header)
        if byte_order != 0xFFFE or (major, sector_shift) not in ((3, 9), (4, 12)):
            raise _damaged(name)
        self._sector_size = 1 << sector_shift
        # The header fills sector -1: 512 bytes, padded to 4096 in version 4.
        self._sector_count = max(0, self._size // self._sector_size - 1)
        if fat_sectors > self._sector_count:
            raise _damaged(name)
        difat = list(struct.unpack_from(f"<{_CFB_HEADER_DIFAT}I", header, _CFB_HEADER.size))
        per_sector = self._sector_size // 4
        sector, seen = first_difat, set()
        while len(difat) < fat_sectors and sector <= _MAX_SECTOR:
            if sector in seen or len(seen) >= difat_sectors:
                raise _damaged(name)
            seen.add(sector)
            entries = struct.unpack(f"<{per_sector}I", self._sector(sector))
            difat.extend(entries[:-1])
            sector = entries[-1]
        self._fat_sectors = difat[:fat_sectors]
        self._fat_cache: dict[int, tuple[int, ...]] = {}

    def _read_at(self, offset: int, length: int) -> bytes:
        self._file.seek(offset)
        data = self._file.read(length)
        if len(data) != length:
            raise _damaged(self._name)
        return data

    def _sector(self, number: int) -> bytes:
        if number >= self._sector_count:
            raise _damaged(self._name)
        return self._read_at((number + 1) * self._sector_size, self._sector_size)

    def _next(self, sector: int) -> int:
        per_sector = self._sector_size // 4
        index, slot = divmod(sector, per_sector)
        if index >= len(self._fat_sectors):
            raise _damaged(self._name)
        if index not in self._fat_cache:
            self._fat_cache[index] = struct.unpack(f"<{per_sector}I",
                                                   self._sector(self._fat_sectors[index]))
        return self._fat_cache[index][slot]

    def directory(self) -> list[tuple[str, int]]:
        """(lower-cased name, object type) of every directory entry in use."""
        entries: list[tuple[str, int]] = []
        sector, seen = self._first_directory, set()
        while sector != _END_OF_CHAIN:
            if sector > _MAX_SECTOR or sector in seen:
                raise _damaged(self._name)
            seen.add(sector)
            if len(seen) * self._sector_size > MAX_DIRECTORY_BYTES:
                raise UploadRejected(f"{self._name} has too many parts to be a document we "
                                     "accept")
            data = self._sector(sector)
            for offset in range(0, len(data), _DIRECTORY_ENTRY):
                raw_name, name_length, kind = struct.unpack_from("<64sHB", data, offset)
                if kind and 2 <= name_length <= 64:
                    name = raw_name[:name_length - 2].decode("utf-16-le", "replace")
                    entries.append((name.lower(), kind))
            sector = self._next(sector)
        return entries


def _check_compound_file(fileobj: BinaryIO, name: str) -> None:
    directory = _CompoundFile(fileobj, name).directory()
    if any(entry in _VBA_NAMES for entry, _ in directory):
        raise _macros_refused(name)
    if not any(kind == _STREAM and entry in _OFFICE_STREAMS for entry, kind in directory):
        raise UploadRejected(
            f"{name} is not a Word, Excel or PowerPoint document: installers and other files "
            "in Microsoft's compound format are not accepted")
