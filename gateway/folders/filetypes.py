"""Which files a folder accepts, and how their text is read.

As upstream: the part's Content-Type is trusted when it is an accepted
type, otherwise the type comes from the file name's extension; anything
else is a 415. The extension table is ours, so the answer does not depend
on the host's ``mimetypes`` database.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Literal

from ..http.errors import ApiError
from .chunking import Style

Reader = Literal["text", "html", "pdf", "docx", "pptx", "xlsx", "epub"]

OFFICE: dict[str, Reader] = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/epub+zip": "epub",
}

BY_EXTENSION = {
    ".pdf": "application/pdf",
    **{f".{reader}": mime for mime, reader in OFFICE.items()},
    ".txt": "text/plain",
    ".text": "text/plain",
    ".log": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".json": "application/json",
    ".jsonl": "application/jsonl",
    ".ndjson": "application/x-ndjson",
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".html": "text/html",
    ".htm": "text/html",
    ".xml": "application/xml",
    ".yaml": "application/x-yaml",
    ".yml": "application/x-yaml",
    ".toml": "application/toml",
    ".rst": "text/x-rst",
    ".py": "text/x-python",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".ts": "text/x-typescript",
    ".tsx": "text/x-typescript",
    ".jsx": "text/javascript",
    ".java": "text/x-java",
    ".kt": "text/x-kotlin",
    ".go": "text/x-go",
    ".rs": "text/x-rust",
    ".rb": "text/x-ruby",
    ".php": "text/x-php",
    ".c": "text/x-c",
    ".h": "text/x-c",
    ".cc": "text/x-c++",
    ".cpp": "text/x-c++",
    ".hpp": "text/x-c++",
    ".cs": "text/x-csharp",
    ".swift": "text/x-swift",
    ".scala": "text/x-scala",
    ".sh": "text/x-shellscript",
    ".bash": "text/x-shellscript",
    ".sql": "text/x-sql",
    ".css": "text/css",
    ".ini": "text/plain",
    ".cfg": "text/plain",
}
ACCEPTED = set(BY_EXTENSION.values()) | {"text/xml", "text/yaml", "application/x-python", "text/x-markdown"}


def file_type(name: str, declared: str | None) -> str:
    """The MIME type the file is stored with; 415 unless it is accepted."""
    declared = (declared or "").partition(";")[0].strip().lower()
    if declared in ACCEPTED:
        return declared
    guessed = BY_EXTENSION.get(PurePosixPath(name).suffix.lower())
    if guessed is None:
        shown = declared or PurePosixPath(name).suffix or "unknown"
        raise ApiError(415, f"Unsupported file type: {shown}")
    return guessed


#: Types chunked as code (by blank-line blocks, then lines).
CODE = {mime for ext, mime in BY_EXTENSION.items() if mime.startswith("text/x-") and ext != ".rst"} | {
    "text/javascript",
    "text/css",
    "application/x-python",
}
MARKDOWN = {"text/markdown", "text/x-markdown"}


def chunk_style(mime: str) -> Style:
    return "markdown" if mime in MARKDOWN else "code" if mime in CODE else "prose"


def reader_of(mime: str) -> Reader:
    if mime == "application/pdf":
        return "pdf"
    if mime in OFFICE:
        return OFFICE[mime]
    return "html" if mime == "text/html" else "text"
