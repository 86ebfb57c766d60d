"""Documents to text in a child process, so that no document can hold the
gateway: ``python -I documents.py KIND MAX_MEMORY CPU_SECONDS`` with the
document as standard input (a file, so it can seek). The text goes to
standard output as it comes; a document that cannot be read ends with a
one-line reason on standard error and exit status 2. This module imports
nothing of the gateway, so the child starts with only the libraries it needs.

Kinds: PDF (``pypdf``, page by page), HTML (the standard library's
incremental parser, without scripts and styles), Office documents (.docx,
.pptx, .xlsx) and e-books (.epub) as Markdown-like text. A PDF whose pages
share one huge content stream, or HTML of one unclosed attribute, costs the
child time (both parsers are quadratic there), never the gateway's event
loop; the parent kills it after the file's time limit.

Libraries: ``python-docx``, ``python-pptx`` and ``openpyxl``, each the
maintained reader of its format, pure Python over ``lxml``, reading only the
parts text comes from. None runs macros: VBA parts are never read, and no
formula is evaluated (openpyxl's ``data_only`` gives the values the
spreadsheet application cached). ``markitdown`` would bring ``mammoth``,
``pandas`` and ``numpy`` for these three formats (pandas only to print
sheets), tens of megabytes more in the image, and still not bound its run.
EPUBs are read with ``ebooklib`` (maintained, small, over the same
``lxml``; it parses without resolving entities): their pages in reading
order (not the navigation page), each page's headings, paragraphs, list
items and table rows. No script in them runs. ODT is not read: its Python reader, ``odfpy``, has
had no release since 2020.

Bounds, so that no document can take the gateway down:

- before an Office document or EPUB is parsed, the zip's central
  directory: at most ``MAX_ENTRIES`` entries, ``MAX_UNCOMPRESSED`` bytes
  declared in all, no entry over 1 MiB compressed more than ``MAX_RATIO``
  times. ``zipfile`` never inflates an
  entry past its declared size, so the declaration binds: a zip bomb is
  refused without inflating a byte of it;
- the child limits its own address space and CPU time (``RLIMIT_AS``,
  ``RLIMIT_CPU``) first thing; the parent kills it after a wall-clock time,
  and when it stops reading (the text is over its limit, or the gateway
  stops). Whatever slips past the zip check (an XML tree too big for
  memory, a PDF's content streams) ends the child, not the gateway.

Encrypted Office documents are not zips but OLE compound files (as are the
old binary .doc/.ppt/.xls): recognised by their signature and refused.
"""

from __future__ import annotations

import codecs
import io
import resource
import sys
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from typing import Any, BinaryIO

MAX_ENTRIES = 10_000
MAX_UNCOMPRESSED = 256 * 1024 * 1024
MAX_RATIO = 200
#: Compound File Binary: encrypted OOXML, or the old binary formats.
OLE_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")


class Unreadable(Exception):
    """The document is not one this child can read; the message says why."""


def check_zip(file: BinaryIO) -> None:
    head = file.read(8)
    file.seek(0)
    if head == OLE_SIGNATURE:
        raise Unreadable("The document is encrypted (or in an old binary format, not Office Open XML)")
    try:
        entries = zipfile.ZipFile(file).infolist()
    except zipfile.BadZipFile as exc:
        raise Unreadable(f"The document is not a valid Office file or EPUB: {exc}") from None
    if len(entries) > MAX_ENTRIES:
        raise Unreadable(f"The document has {len(entries)} parts; at most {MAX_ENTRIES} are read")
    declared = sum(entry.file_size for entry in entries)
    if declared > MAX_UNCOMPRESSED:
        raise Unreadable(f"The document declares {declared} bytes uncompressed; at most {MAX_UNCOMPRESSED} are read")
    for entry in entries:
        if entry.file_size > 1024 * 1024 and entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
            raise Unreadable(f"The document's part {entry.filename!r} is compressed over {MAX_RATIO} times")
    file.seek(0)


def _cell(text: object) -> str:
    return "" if text is None else " ".join(str(text).split()).replace("|", "\\|")


def table(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """Rows as Markdown table lines, the first one as the header; empty
    rows dropped."""
    first = True
    for row in rows:
        cells = [_cell(value) for value in row]
        if not any(cells):
            continue
        yield "| " + " | ".join(cells) + " |\n"
        if first:
            yield "|" + " --- |" * len(cells) + "\n"
            first = False
    if not first:
        yield "\n"


def docx_text(file: BinaryIO) -> Iterator[str]:
    import docx
    from docx.table import Table

    document = docx.Document(file)
    # Style names by id, read once: python-docx's own lookup scans every
    # style for each paragraph without one.
    names = {style.style_id: style.name for style in document.styles}
    in_list = False
    for block in document.iter_inner_content():
        text, style, properties = "", "", None
        if not isinstance(block, Table):
            if not (text := block.text.strip()):
                continue
            properties = block._p.pPr
            style = names.get(properties.style, "") if properties is not None and properties.style else ""
        numbering: Any = properties.numPr if properties is not None else None  # python-docx types it loosely
        item = style.startswith("List") or numbering is not None
        if in_list and not item:
            yield "\n"  # a list ends with a blank line
        in_list = item
        if isinstance(block, Table):
            yield from table([cell.text for cell in row.cells] for row in block.rows)
        elif style == "Title":
            yield f"# {text}\n\n"
        elif style.startswith("Heading ") and style[8:].isdigit():
            yield f"{'#' * min(int(style[8:]), 6)} {text}\n\n"
        elif item:
            level = numbering.ilvl.val if numbering is not None and numbering.ilvl is not None else 0
            yield f"{'  ' * level}{'1.' if 'Number' in style else '-'} {text}\n"
        else:
            yield f"{text}\n\n"
    if in_list:
        yield "\n"


def pptx_text(file: BinaryIO) -> Iterator[str]:
    import pptx
    from pptx.enum.shapes import PP_PLACEHOLDER
    from pptx.shapes.group import GroupShape

    BULLETED = (PP_PLACEHOLDER.BODY, PP_PLACEHOLDER.OBJECT)

    def shapes_text(shapes, title) -> Iterator[str]:  # noqa: ANN001
        for shape in shapes:
            if isinstance(shape, GroupShape):
                yield from shapes_text(shape.shapes, title)
            elif getattr(shape, "has_table", False) and shape.has_table:
                yield from table([cell.text for cell in row.cells] for row in shape.table.rows)
            elif shape.has_text_frame and shape != title:
                body = shape.is_placeholder and shape.placeholder_format.type in BULLETED
                for paragraph in shape.text_frame.paragraphs:
                    if text := paragraph.text.strip():
                        yield f"{'  ' * paragraph.level}- {text}\n" if body else f"{text}\n\n"
                if body:
                    yield "\n"

    for number, slide in enumerate(pptx.Presentation(file).slides, 1):
        title = slide.shapes.title
        heading = title.text_frame.text.strip() if title is not None and title.has_text_frame else ""
        yield f"## Slide {number}: {heading}\n\n" if heading else f"## Slide {number}\n\n"
        yield from shapes_text(slide.shapes, title)
        if slide.has_notes_slide and (notes := slide.notes_slide.notes_text_frame.text.strip()):
            yield f"Notes: {notes}\n\n"


def xlsx_text(file: BinaryIO) -> Iterator[str]:
    import openpyxl  # type: ignore[import-untyped]

    workbook = openpyxl.load_workbook(file, read_only=True, data_only=True)
    try:
        for sheet in workbook.worksheets:
            yield f"## {sheet.title}\n\n"
            yield from table(sheet.iter_rows(values_only=True))
    finally:
        workbook.close()


def epub_text(file: BinaryIO) -> Iterator[str]:
    import lxml.html
    from ebooklib import ITEM_DOCUMENT, epub

    book = epub.read_epub(file, {"ignore_ncx": True})
    for item_id, _linear in book.spine:
        item = book.get_item_with_id(item_id)
        # Not the navigation page: a table of contents, not text.
        if item is not None and item.get_type() == ITEM_DOCUMENT and item.is_chapter():
            yield from html_blocks(lxml.html.document_fromstring(item.get_content()))


HTML_BLOCKS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "tr")


def html_blocks(root: Any) -> Iterator[str]:
    """An (X)HTML page's headings, paragraphs, list items and table rows in
    order; a block inside another (a paragraph in a list item) is part of
    its parent's text."""
    rows: list[list[str]] = []
    table_of, in_list = None, False
    for element in root.iter(*HTML_BLOCKS):
        if any(ancestor.tag in HTML_BLOCKS for ancestor in element.iterancestors()):
            continue
        if rows and (element.tag != "tr" or next(element.iterancestors("table"), None) is not table_of):
            yield from table(rows)
            rows = []
        if in_list and element.tag != "li":
            yield "\n"  # a list ends with a blank line
        in_list = element.tag == "li"
        if element.tag == "tr":
            table_of = next(element.iterancestors("table"), None)
            rows.append([cell.text_content() for cell in element.iter("td", "th")])
        elif element.tag == "pre":
            yield element.text_content().strip("\n") + "\n\n"
        elif text := " ".join(element.text_content().split()):
            if element.tag == "li":
                yield f"- {text}\n"
            else:
                yield f"{'#' * int(element.tag[1])} {text}\n\n" if element.tag[0] == "h" else f"{text}\n\n"
    if in_list:
        yield "\n"
    yield from table(rows)


def pdf_text(file: BinaryIO) -> Iterator[str]:
    import pypdf
    import pypdf.errors

    try:
        reader = pypdf.PdfReader(file)
        if reader.is_encrypted:
            raise Unreadable("The PDF is encrypted")
        for page in reader.pages:
            yield (page.extract_text() or "") + "\n\n"
    except (pypdf.errors.PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        # pypdf reports damaged files with these as well as its own errors.
        raise Unreadable(f"The PDF cannot be read: {exc or type(exc).__name__}") from exc


#: HTML elements whose end starts a new line of text.
BLOCKS = {
    "title", "p", "div", "li", "dt", "dd", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
    "header", "footer", "nav", "aside", "main", "blockquote", "pre", "table", "ul", "ol", "figcaption",
}  # fmt: skip
#: Elements whose end separates words.
CELLS = {"td", "th", "label", "option"}


class _HTMLText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style", "template"):
            self.hidden += 1
        elif tag == "br":
            self.pieces.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template"):
            self.hidden = max(0, self.hidden - 1)
        elif tag in BLOCKS:
            self.pieces.append("\n")
        elif tag in CELLS:
            self.pieces.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.pieces.append(data)

    def take(self) -> str:
        text, self.pieces = "".join(self.pieces), []
        return text


def html_text(file: BinaryIO) -> Iterator[str]:
    """UTF-8 (invalid bytes replaced) as it streams, without scripts and styles."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    parser = _HTMLText()
    while chunk := file.read(64 * 1024):
        parser.feed(decoder.decode(chunk))
        yield parser.take()
    parser.feed(decoder.decode(b"", final=True))
    parser.close()
    yield parser.take()


#: Readers of zip containers, whose directory is checked first.
ZIPPED = {"docx": docx_text, "pptx": pptx_text, "xlsx": xlsx_text, "epub": epub_text}
READERS = ZIPPED | {"pdf": pdf_text, "html": html_text}


def main(kind: str, max_memory: int, cpu_seconds: int) -> int:
    for limit, value in ((resource.RLIMIT_AS, max_memory), (resource.RLIMIT_CPU, cpu_seconds)):
        # The soft limit only: a host's own hard limit may be lower, and stays.
        _, hard = resource.getrlimit(limit)
        resource.setrlimit(limit, (value if hard == resource.RLIM_INFINITY else min(value, hard), hard))
    warnings.simplefilter("ignore")  # openpyxl warns of styles it ignores
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", errors="replace", write_through=False)
    document = open(sys.stdin.fileno(), "rb", closefd=False)  # noqa: SIM115 (the process's own stdin)
    try:
        if kind in ZIPPED:
            check_zip(document)
        for piece in READERS[kind](document):
            out.write(piece)
        out.flush()
    except Unreadable as exc:
        print(exc, file=sys.stderr)
        return 2
    except MemoryError:
        print(f"The document needs more than {max_memory // 2**20} MiB to extract", file=sys.stderr)
        return 2
    except Exception as exc:  # a damaged document: every library has its own errors
        print(f"The document cannot be read: {type(exc).__name__}: {exc}"[:500], file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
