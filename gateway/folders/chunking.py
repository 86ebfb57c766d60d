"""Chunks of extracted text cut as upstream cuts them, so that
``total_chunks`` is comparable with its counts for the same file and size.

Upstream (Letta's ``LlamaIndexChunker``, over LlamaIndex) cuts Markdown at
every heading outside code fences (``MarkdownNodeParser``) and splits again
each section longer than ``embedding_chunk_size`` characters; everything
else, code included (its ``CodeSplitter`` call fails and falls back), goes
through ``SentenceSplitter``: chunks of at most ``embedding_chunk_size``
tokens of OpenAI's cl100k tokenizer, cut at paragraphs, then sentences,
then words, overlapping by 50 tokens.

Here the sections are cut by upstream's rule (a line starting with ``#``s
and a space, outside ```` ``` ```` fences) and the chunks by
``semantic-text-splitter``: one wheel without dependencies, with cl100k
built in (LlamaIndex would bring dozens of packages and download its
tokenizer at run time). Its splitters fill each chunk up to ``size`` tokens
with the coarsest units that fit: blank-line blocks (paragraphs; for code,
functions and classes), then lines, sentences (Unicode's rules), words.
Markdown sections go through its ``MarkdownSplitter``, which also keeps
lists and code blocks whole where they fit. Against llama-index-core 0.14
on Letta's own test texts, both splitters given the same (word) tokenizer:
35 chunks for its 34 on ``long_test.txt`` at 300, 111 for 103 at 100; and
``test.md`` at 300 is 25 chunks, one a section, both in upstream's pipeline
and in this chunker.

Text is fed as it is extracted and cut into windows of ``64 * size``
characters (within ``MIN_WINDOW`` and ``MAX_WINDOW``) at a blank line (or a
line end, or a space), so memory stays bounded whatever the file's size; a
chunk never spans two windows. Counting tokens costs about a second of CPU
per MB of text.
"""

from __future__ import annotations

import re
from typing import Literal

from semantic_text_splitter import MarkdownSplitter, TextSplitter

Style = Literal["prose", "markdown", "code"]

#: The tokenizer upstream counts with (LlamaIndex's default, tiktoken's cl100k).
TOKENIZER_MODEL = "gpt-3.5-turbo"
#: Bounds of a window: the splitter holds the GIL while it works on one
#: (about a second per MB), so a window also bounds how long it stalls the
#: event loop; 512 KiB is still dozens of chunks of 8,191 tokens, the most
#: OpenAI's embedding models take.
MIN_WINDOW, MAX_WINDOW = 16 * 1024, 512 * 1024
HEADING = re.compile(r"#+\s")


def overlap_for(size: int) -> int:
    """Upstream's 50 tokens, less for small chunks (a fifth of them)."""
    return min(50, size // 5)


class Chunker:
    """Fed text piece by piece; ``feed`` and ``close`` return the chunks
    completed, ``count`` how many there were in all."""

    def __init__(self, size: int, style: Style = "prose") -> None:
        splitter = MarkdownSplitter if style == "markdown" else TextSplitter
        self.splitter = splitter.from_tiktoken_model(TOKENIZER_MODEL, size, overlap=overlap_for(size))
        self.size, self.markdown = size, style == "markdown"
        self.window = min(max(MIN_WINDOW, 64 * size), MAX_WINDOW)
        self.buffer = ""
        self.count = 0
        # Markdown: how much of the buffer was scanned for headings, and
        # whether that part ends inside a code fence.
        self.scanned = 0
        self.fenced = False

    def feed(self, text: str) -> list[str]:
        self.buffer += text
        if self.markdown:
            return self._sections()
        chunks = []
        while len(self.buffer) >= self.window:
            chunks += self._take(_cut(self.buffer[: self.window]), whole=False)
        return chunks

    def close(self) -> list[str]:
        return self._take(len(self.buffer), whole=True)

    def _take(self, end: int, whole: bool) -> list[str]:
        """The chunks of the buffer's first ``end`` characters, which it drops.
        Cuts depend on the text alone, never on how it was fed."""
        chunks = self._chunks(self.buffer[:end], whole)
        self.buffer, self.scanned = self.buffer[end:], max(0, self.scanned - end)
        return chunks

    def _sections(self) -> list[str]:
        """The chunks of each section the buffer's complete lines end: the
        text before a heading that is not in a code fence, or a window of a
        section too long to hold (cut at a line end)."""
        chunks = []
        while (end := self.buffer.find("\n", self.scanned)) >= 0:
            start, line = self.scanned, self.buffer[self.scanned : end]
            self.scanned = end + 1
            if line.lstrip().startswith("```"):
                self.fenced = not self.fenced
            elif not self.fenced and HEADING.match(line) and start > 0:
                chunks += self._take(start, whole=True)
            if self.scanned >= self.window:
                chunks += self._take(_cut(self.buffer[: self.window], ("\n\n", "\n")), whole=False)
        return chunks

    def _chunks(self, text: str, whole: bool) -> list[str]:
        """``whole``: a Markdown section, one chunk if it is short enough
        (upstream measures it in characters); otherwise the splitter's."""
        if self.markdown and whole and len(text.strip()) <= self.size:
            chunks = [text.strip()] if text.strip() else []
        else:
            chunks = self.splitter.chunks(text)
        self.count += len(chunks)
        return chunks


def _cut(text: str, separators: tuple[str, ...] = ("\n\n", "\n", " ")) -> int:
    """Where to end a window: after the last blank line (or line end, or
    space) of its second half; at its end if there is none."""
    half = len(text) // 2
    for separator in separators:
        if (at := text.rfind(separator, half)) >= 0:
            return at + len(separator)
    return len(text)
