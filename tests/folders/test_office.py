"""Office documents made here (python-docx, python-pptx, openpyxl), and
corrupt, encrypted and zip-bomb ones, through the official letta-client on
every backend; the extraction's bounds called directly."""

from __future__ import annotations

import io
import random
import tempfile
import zipfile

import docx
import letta_client
import openpyxl
import pptx
import pytest
from ebooklib import epub
from letta_client import Letta
from msoffcrypto.format.ooxml import OOXMLFile
from pptx.util import Inches

from gateway.folders.extract import ChildLimits, ExtractionError, document_text

from ..letta_client import processed


def upload(client: Letta, folder_id: str, name: str, data: bytes):
    return client.folders.files.upload(folder_id, file=(name, io.BytesIO(data)))


def make_docx() -> bytes:
    document = docx.Document()
    document.add_heading("Report", 0)
    document.add_heading("Introduction", 1)
    document.add_paragraph("First sentence. Second sentence.")
    document.add_paragraph("apples", style="List Bullet")
    document.add_paragraph("pears", style="List Bullet")
    document.add_heading("Numbers", 2)
    table = document.add_table(rows=2, cols=2)
    for (row, col), text in {(0, 0): "fruit", (0, 1): "count | kg", (1, 0): "apples", (1, 1): "3"}.items():
        table.cell(row, col).text = text
    document.add_paragraph("The end.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


DOCX_TEXT = (
    "# Report\n\n# Introduction\n\nFirst sentence. Second sentence.\n\n- apples\n- pears\n\n## Numbers\n\n"
    "| fruit | count \\| kg |\n| --- | --- |\n| apples | 3 |\n\nThe end.\n\n"
)


def make_pptx() -> bytes:
    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[1])
    slide.shapes.title.text = "Plan"
    body = slide.placeholders[1].text_frame
    body.text = "ship it"
    sub = body.add_paragraph()
    sub.text, sub.level = "on time", 1
    slide.notes_slide.notes_text_frame.text = "speak slowly"
    second = presentation.slides.add_slide(presentation.slide_layouts[5])
    second.shapes.title.text = "Figures"
    table = second.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(4), Inches(1)).table
    for (row, col), text in {(0, 0): "q", (0, 1): "sales", (1, 0): "Q1", (1, 1): "10"}.items():
        table.cell(row, col).text = text
    box = second.shapes.add_textbox(Inches(1), Inches(4), Inches(4), Inches(1))
    box.text_frame.text = "A caption."
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


PPTX_TEXT = (
    "## Slide 1: Plan\n\n- ship it\n  - on time\n\nNotes: speak slowly\n\n"
    "## Slide 2: Figures\n\n| q | sales |\n| --- | --- |\n| Q1 | 10 |\n\nA caption.\n\n"
)


def make_xlsx() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Stock"
    sheet.append(["item", "count"])
    sheet.append(["apples", 3])
    sheet.append(["total", "=SUM(B2:B2)"])  # never evaluated: no cached value was saved
    workbook.create_sheet("Empty")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


XLSX_TEXT = "## Stock\n\n| item | count |\n| --- | --- |\n| apples | 3 |\n| total |  |\n\n## Empty\n\n"


def make_epub() -> bytes:
    book = epub.EpubBook()
    book.set_identifier("test-book")
    book.set_title("A book")
    book.set_language("en")
    one = epub.EpubHtml(title="One", file_name="one.xhtml", lang="en")
    one.content = (
        "<h1>Chapter One</h1><p>First <b>words</b>.</p><ul><li><p>item a</p></li><li>item b</li></ul>"
        "<table><tr><th>k</th><th>v</th></tr><tr><td>a</td><td>1</td></tr></table><p>After.</p>"
        "<script>document.write('never run')</script>"
    )
    two = epub.EpubHtml(title="Two", file_name="two.xhtml", lang="en")
    two.content = "<h2>Two</h2><pre>code\n  indented</pre>"
    for chapter in (one, two):
        book.add_item(chapter)
    book.toc = (one, two)
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", one, two]
    out = io.BytesIO()
    epub.write_epub(out, book)
    return out.getvalue()


EPUB_TEXT = (
    "# Chapter One\n\nFirst words.\n\n- item a\n- item b\n\n| k | v |\n| --- | --- |\n| a | 1 |\n\n"
    "After.\n\n## Two\n\ncode\n  indented\n\n"
)


def with_entries(document: bytes, entries: dict[str, bytes | int]) -> bytes:
    """``document`` with more zip entries: bytes, or that many zero bytes
    written a MiB at a time (a zip bomb of a few hundred KB)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(document)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in source.infolist():
            zf.writestr(info, source.read(info))
        for name, content in entries.items():
            if isinstance(content, bytes):
                zf.writestr(name, content)
                continue
            with zf.open(name, "w", force_zip64=True) as part:
                for _ in range(content // 2**20):
                    part.write(bytes(2**20))
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "make", "text"),
    [
        ("report.docx", make_docx, DOCX_TEXT),
        ("deck.pptx", make_pptx, PPTX_TEXT),
        ("book.xlsx", make_xlsx, XLSX_TEXT),
        ("novel.epub", make_epub, EPUB_TEXT),
    ],
)
def test_office_documents_become_markdown(client: Letta, folder_id: str, name: str, make, text: str) -> None:
    meta = upload(client, folder_id, name, make())
    assert meta.file_type.startswith(("application/vnd.openxmlformats-officedocument.", "application/epub+zip"))
    done = processed(client, folder_id, meta.id)
    assert (done.processing_status, done.error_message) == ("completed", None)
    assert done.content == text
    assert done.total_chunks == 1


def test_macros_are_never_run_nor_read(client: Letta, folder_id: str) -> None:
    """A VBA project inside the zip is ignored (nothing could run it anyway)."""
    data = with_entries(make_docx(), {"word/vbaProject.bin": b'Attribute VB_Name = "AutoOpen"\nShell "calc"'})
    done = processed(client, folder_id, upload(client, folder_id, "macro.docx", data).id)
    assert (done.processing_status, done.content) == ("completed", DOCX_TEXT)


def encrypted(document: bytes) -> bytes:
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(document)).encrypt("secret", out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("half.docx", lambda: make_docx()[:3000], "not a valid Office file"),
        ("garbage.pptx", lambda: b"PK\x03\x04 not really a zip", "not a valid Office file"),
        ("text.xlsx", lambda: b"name,count\n", "not a valid Office file"),
        ("locked.docx", lambda: encrypted(make_docx()), "encrypted"),
        ("locked.xlsx", lambda: encrypted(make_xlsx()), "encrypted"),
        ("no-document.docx", lambda: with_entries(make_xlsx(), {}), "cannot be read"),
        ("bomb.docx", lambda: with_entries(make_docx(), {"word/media/zeros.bin": 300 * 2**20}), "declares"),
        ("ratio.pptx", lambda: with_entries(make_pptx(), {"ppt/media/zeros.bin": 64 * 2**20}), "compressed over"),
        ("bomb.epub", lambda: with_entries(make_epub(), {"EPUB/zeros.bin": 300 * 2**20}), "declares"),
        ("half.epub", lambda: make_epub()[:2000], "not a valid Office file"),
    ],
)
def test_bad_documents_end_in_error(client: Letta, folder_id: str, name: str, make, message: str) -> None:
    done = processed(client, folder_id, upload(client, folder_id, name, make()).id)
    assert done.processing_status == "error" and message in done.error_message, done.error_message
    assert done.content is None
    # The gateway goes on: the next document completes.
    fine = processed(client, folder_id, upload(client, folder_id, "fine.docx", make_docx()).id)
    assert fine.processing_status == "completed"


async def test_extraction_is_bounded_in_memory_and_time() -> None:
    """A document within the zip limits whose XML tree needs more memory
    than allowed, or more time: an error, the child killed, never the gateway."""
    rng = random.Random(1)
    words = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=8)) for _ in range(5000)]
    body = "".join(f"<w:p><w:r><w:t>{' '.join(rng.choices(words, k=4))}</w:t></w:r></w:p>" for _ in range(100_000))
    with zipfile.ZipFile(io.BytesIO(make_docx())) as source:
        xml = source.read("word/document.xml").decode()
    big = xml.replace("<w:body>", f"<w:body>{body}", 1).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(make_docx())) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in source.infolist():
            zf.writestr(info.filename, big if info.filename == "word/document.xml" else source.read(info))
    with tempfile.TemporaryFile() as file:
        file.write(out.getvalue())
        file.flush()
        # About 97 MB resident at its peak; lxml reports some allocation failures as
        # XML errors, so either message may come.
        for limits, messages in (
            ({"memory": 80 * 2**20}, ("needs more than 80 MiB", "cannot be read")),
            ({"wall_seconds": 0.5}, ("within 0.5 s",)),
        ):
            file.seek(0)
            with pytest.raises(ExtractionError) as caught:
                async for _ in document_text(file, "docx", ChildLimits(**limits)):
                    pass
            assert any(message in str(caught.value) for message in messages), caught.value
        file.seek(0)
        text = "".join([piece async for piece in document_text(file, "docx")])
    assert text.endswith(DOCX_TEXT) and text.count("\n\n") > 100_000


@pytest.mark.parametrize("name", ["macros.docm", "macros.xlsm", "old.doc", "old.ppt", "old.xls", "text.odt"])
def test_macro_enabled_and_binary_formats_are_refused(client: Letta, folder_id: str, name: str) -> None:
    with pytest.raises(letta_client.APIStatusError) as caught:
        upload(client, folder_id, name, make_docx())
    assert caught.value.status_code == 415 and "Unsupported file type" in caught.value.body["detail"]
