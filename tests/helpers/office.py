"""Office files built by hand, as their programs write them (or as attackers craft them): OOXML
and OpenDocument ZIPs, and compound files (Word/Excel/PowerPoint 97-2003, MSI)."""

from __future__ import annotations

import io
import struct
import zipfile

WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
EXCEL_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
POWERPOINT_MAIN = \
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
WORD_MACRO_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"
VBA_PROJECT = "application/vnd.ms-office.vbaProject"

MAIN_PARTS = {"docx": ("word/document.xml", WORD_MAIN),
              "xlsx": ("xl/workbook.xml", EXCEL_MAIN),
              "pptx": ("ppt/presentation.xml", POWERPOINT_MAIN)}


def zip_of(entries: list[tuple[str, bytes | str]], stored: frozenset[str] = frozenset()
           ) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(zipfile.ZipInfo(name), data,
                             zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def content_types(overrides: dict[str, str], defaults: dict[str, str] | None = None) -> str:
    defaults = {"rels": "application/vnd.openxmlformats-package.relationships+xml",
                "xml": "application/xml", **(defaults or {})}
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            + "".join(f'<Default Extension="{e}" ContentType="{t}"/>' for e, t in defaults.items())
            + "".join(f'<Override PartName="/{p}" ContentType="{t}"/>'
                      for p, t in overrides.items())
            + "</Types>")


def ooxml_document(kind: str = "docx", main_type: str | None = None,
                   extra: list[tuple[str, bytes | str]] = (),
                   defaults: dict[str, str] | None = None) -> bytes:
    """A minimal Word, Excel or PowerPoint file: content types, relationships, the main part."""
    part, declared = MAIN_PARTS[kind]
    rels = ('<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            f'Target="{part}"/></Relationships>')
    return zip_of([("[Content_Types].xml", content_types({part: main_type or declared},
                                                         defaults)),
                   ("_rels/.rels", rels),
                   (part, '<?xml version="1.0"?><document/>'), *extra])


def odf_document(mimetype: str = "application/vnd.oasis.opendocument.text",
                 mimetype_first: bool = True, extra: list[tuple[str, bytes | str]] = ()
                 ) -> bytes:
    entries = [("content.xml", '<?xml version="1.0"?><office:document-content/>'),
               ("META-INF/manifest.xml", '<?xml version="1.0"?><manifest:manifest/>'), *extra]
    mimetype_entry = ("mimetype", mimetype)
    entries = [mimetype_entry, *entries] if mimetype_first else [*entries, mimetype_entry]
    return zip_of(entries, stored=frozenset({"mimetype"}))


MSI_CLSID = bytes.fromhex("84100c00000000000c00000000000046")
_FREE, _END, _FAT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD


def compound_file(entries: list[tuple[str, int]], root_clsid: bytes = bytes(16),
                  directory_loops: bool = False, version: int = 3) -> bytes:
    """A compound file (version 3: 512-byte sectors, 4: 4096) whose directory holds ``entries``
    (name, type: 1 storage, 2 stream), all empty and children of the root: sector 0 is the FAT,
    the directory follows."""
    sector = 512 if version == 3 else 4096
    names = [("Root Entry", 5), *entries]
    per_sector = sector // 128
    directory_sectors = (len(names) + per_sector - 1) // per_sector
    fat = [_FAT] + [n + 2 for n in range(directory_sectors - 1)] + [_END]
    if directory_loops:
        fat[-1] = 1
    fat += [_FREE] * (sector // 4 - len(fat))
    directory = b""
    for index, (name, kind) in enumerate(names):
        encoded = name.encode("utf-16-le") + b"\0\0"
        child = 1 if index == 0 and len(names) > 1 else _FREE
        right = index + 1 if 0 < index < len(names) - 1 else _FREE
        directory += struct.pack("<64sHBBIII16sIQQIQ", encoded, len(encoded), kind, 1,
                                 _FREE, right, child, root_clsid if index == 0 else bytes(16),
                                 0, 0, 0, _END, 0)
    directory += bytes(directory_sectors * sector - len(directory))
    header = struct.pack("<8s16sHHHHH6sIIIIIIIII", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
                         bytes(16), 0x3E, version, 0xFFFE, 9 if version == 3 else 12, 6,
                         bytes(6), 0 if version == 3 else directory_sectors, 1, 1, 0, 4096,
                         _END, 0, _END, 0)
    header += struct.pack("<109I", 0, *[_FREE] * 108)
    header += bytes(sector - len(header))
    return header + struct.pack(f"<{len(fat)}I", *fat) + directory
