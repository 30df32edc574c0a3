"""Office files judged by their structure: the main part and its content type, ODF's mimetype
first, compound files that are Word, Excel or PowerPoint; macros and installers refused. Every
sample is built in ``tests.helpers.office``."""

from __future__ import annotations

import io

import pytest

from portfolio.core.uploads import UploadRejected
from portfolio.core.uploads.containers import MAX_ENTRIES, check_container
from portfolio.core.uploads.sniffing import DOCX, HEAD_SIZE, OLE_STORAGE, PPTX, XLSX, sniff
from tests.helpers.office import (
    EXCEL_MAIN,
    MSI_CLSID,
    VBA_PROJECT,
    WORD_MACRO_MAIN,
    compound_file,
    content_types,
    odf_document,
    ooxml_document,
    zip_of,
)

ODT = "application/vnd.oasis.opendocument.text"


def judged(data: bytes, name: str) -> str:
    """The type the upload path settles on: the head's, then the structure's."""
    return check_container(io.BytesIO(data), sniff(data[:HEAD_SIZE], name), name)


@pytest.mark.parametrize(("data", "expected"), [
    (ooxml_document("docx"), DOCX),
    (ooxml_document("xlsx"), XLSX),
    (ooxml_document("pptx"), PPTX),
    (odf_document(), ODT),
    (odf_document("application/vnd.oasis.opendocument.spreadsheet"),
     "application/vnd.oasis.opendocument.spreadsheet"),
    (compound_file([("WordDocument", 2), ("1Table", 2), ("\x05SummaryInformation", 2)]),
     OLE_STORAGE),
    (compound_file([("Workbook", 2)]), OLE_STORAGE),
    (compound_file([("Workbook", 2)], version=4), OLE_STORAGE),
    (compound_file([("PowerPoint Document", 2), ("Current User", 2)]), OLE_STORAGE),
])
def test_real_documents_are_accepted(data, expected):
    assert judged(data, "work.bin") == expected


MACROS = "contains macros or controls that run code, which we do not accept"
INCOMPLETE = "is not a complete Word, Excel or PowerPoint document"


@pytest.mark.parametrize(("data", "message"), [
    # docm: a macro-enabled main part and its VBA project.
    (ooxml_document("docx", WORD_MACRO_MAIN, extra=[("word/vbaProject.bin", b"\xcc" * 64)]),
     MACROS),
    # A VBA project tucked into an otherwise plain document.
    (ooxml_document("docx", extra=[("customXml/VBAPROJECT.BIN", b"\xcc" * 64)]), MACROS),
    (ooxml_document("xlsx", defaults={"bin": VBA_PROJECT}), MACROS),
    (ooxml_document("docx", extra=[("word/activeX/activeX1.bin", b"\xcc" * 64)]), MACROS),
    # Only [Content_Types].xml: the head looks like OOXML, nothing else is there.
    (zip_of([("[Content_Types].xml", content_types({}))]), INCOMPLETE),
    # Content types first, then anything at all.
    (zip_of([("[Content_Types].xml", content_types({})), ("payload.exe", b"MZ" * 100)]),
     INCOMPLETE),
    # The main part declared as another kind.
    (ooxml_document("docx", EXCEL_MAIN), INCOMPLETE),
    (zip_of([("[Content_Types].xml", "<!DOCTYPE x [<!ENTITY a 'a'>]><Types/>"),
             ("word/document.xml", "<document/>")]), "could not be read as a document"),
    (odf_document(extra=[("Basic/Standard/Module1.xml", "<script:module/>")]), MACROS),
    (odf_document(extra=[("Scripts/python/run.py", "import os")]), MACROS),
    (compound_file([("WordDocument", 2), ("Macros", 1), ("VBA", 1)]), MACROS),
    (compound_file([("Workbook", 2), ("_VBA_PROJECT_CUR", 1)]), MACROS),
    (compound_file([("WordDocument", 2), ("Macros", 1)], version=4), MACROS),
    (compound_file([("\u4840\u3b3f\u4577\u446c\u3b6a\u45e4\u4824", 2),
                    ("\x05SummaryInformation", 2)], root_clsid=MSI_CLSID),
     "is not a Word, Excel or PowerPoint document: installers"),
    (compound_file([("WordDocument", 2)], directory_loops=True),
     "could not be read as a document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "could not be read as a document"),
])
def test_crafted_documents_are_refused_saying_why(data, message):
    with pytest.raises(UploadRejected) as refused:
        judged(data, "work.docx")
    assert str(refused.value).startswith("work.docx ")
    assert message in str(refused.value)


def test_an_odf_whose_mimetype_is_not_first_is_refused():
    data = odf_document(mimetype_first=False)
    with pytest.raises(UploadRejected, match=r"^essay\.odt is a ZIP archive"):
        judged(data, "essay.odt")
    # The head and the central directory must agree: a head that says "mimetype first" over a
    # directory that lists something else first is refused too.
    head = odf_document()
    archive = zip_of([("content.xml", "<x/>"), ("mimetype", ODT)], stored=frozenset({"mimetype"}))
    with pytest.raises(UploadRejected, match="its type is not its first entry"):
        check_container(io.BytesIO(archive), sniff(head, "essay.odt"), "essay.odt")


def test_an_archive_of_too_many_entries_is_refused_from_its_end_record():
    entries = [("[Content_Types].xml", content_types({}))]
    entries += [(f"word/media/{n}.xml", b"") for n in range(MAX_ENTRIES)]
    with pytest.raises(UploadRejected, match="has too many parts"):
        judged(zip_of(entries), "big.docx")
