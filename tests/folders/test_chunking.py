"""Chunk boundaries (the chunker called directly) and ``total_chunks``
through the official letta-client, on every backend."""

from __future__ import annotations

import io
import random

from letta_client import Letta

from gateway.folders.chunking import Chunker

from ..letta_client import processed

SENTENCES = " ".join(f"Sentence number {i} says something." for i in range(60))
MARKDOWN = f"""Intro before any heading.

# One

Short section.

## Two

```python
# a comment in a fence, not a heading
x = 1
```

### Three

{SENTENCES}

#hashtag is not a heading
"""
CODE = "\n\n".join(f"def f{i}(x):\n    y = x * {i}\n    return y + {i}\n" for i in range(40))


def chunks_of(text: str, size: int, style: str = "prose", piece: int = 7) -> list[str]:
    """Fed in small pieces, as extraction feeds it."""
    chunker = Chunker(size, style)
    chunks = [c for i in range(0, len(text), piece) for c in chunker.feed(text[i : i + piece])]
    chunks += chunker.close()
    assert chunker.count == len(chunks)
    return chunks


def test_markdown_is_cut_at_headings_then_sentences() -> None:
    chunks = chunks_of(MARKDOWN, 100, "markdown")
    assert chunks[:3] == [
        "Intro before any heading.",
        "# One\n\nShort section.",
        "## Two\n\n```python\n# a comment in a fence, not a heading\nx = 1\n```",
    ]
    # The long section: split at sentence ends, overlapping, and "#hashtag"
    # (no space) stays in it.
    long = chunks[3:]
    assert long[0].startswith("### Three") and len(long) >= 4
    assert all(c.endswith(("something.", "heading", "### Three")) for c in long)
    body = [c for c in long if c.startswith("Sentence")]
    assert all(c.startswith("Sentence number ") for c in body) and body[-1].endswith("#hashtag is not a heading")
    assert body[0].split(".")[-2] in body[1]  # overlap: the first chunk's last sentence starts the next
    # The same text as prose is not cut at headings.
    assert not any(c.startswith("## Two") for c in chunks_of(MARKDOWN, 100))


def test_a_short_section_is_one_chunk_whatever_the_size() -> None:
    """As upstream: each section is a chunk unless it is longer than the size."""
    sections = "".join(f"# Part {i}\n\nA line.\n\n" for i in range(10))
    assert len(chunks_of(sections, 300, "markdown")) == 10
    assert len(chunks_of(sections, 300, "prose")) == 1


def test_code_is_cut_between_blocks() -> None:
    chunks = chunks_of(CODE, 100, "code")
    assert len(chunks) > 5
    assert all(c.startswith("def f") and c.endswith(tuple(f"return y + {i}" for i in range(40))) for c in chunks)
    assert chunks[0].startswith("def f0(x):") and chunks[-1].endswith("return y + 39")


def test_sizes_are_tokens_and_windows_do_not_change_counts_much() -> None:
    vocabulary = [f"word{i}" for i in range(1000)]
    text = "\n\n".join(
        " ".join(random.Random(n).choices(vocabulary, k=60)) + "." for n in range(1500)
    )  # ~650 KB: many windows of 16 KB at size 100, two at 8191
    small = chunks_of(text, 100, piece=4096)
    assert 0.9 < len(small) / (len(text) / 4 / 80) < 2  # ~4 characters a token, a chunk moves by ~80 tokens
    # ~200k tokens: about 25 chunks of 8191 tokens, windows of 512 KiB notwithstanding.
    assert 20 <= len(chunks_of(text, 8191, piece=4096)) <= 32
    assert chunks_of("   \n\n ", 100) == [] and chunks_of("", 100, "markdown") == []


def upload(client: Letta, folder_id: str, name: str, data: bytes):
    return client.folders.files.upload(folder_id, file=(name, io.BytesIO(data)))


def test_total_chunks_follow_the_text_and_the_folder_size(client: Letta) -> None:
    folder = client.folders.create(name="chunks", embedding_chunk_size=100)
    for name, text, style in (
        ("doc.md", MARKDOWN, "markdown"),
        ("code.py", CODE, "code"),
        ("doc.txt", MARKDOWN, "prose"),
    ):
        meta = processed(client, folder.id, upload(client, folder.id, name, text.encode()).id)
        assert meta.total_chunks == len(chunks_of(text, 100, style)), name
    assert len(chunks_of(MARKDOWN, 100, "markdown")) != len(chunks_of(MARKDOWN, 100, "prose"))
    big = client.folders.create(name="big chunks", embedding_chunk_size=2000)
    assert processed(client, big.id, upload(client, big.id, "code.py", CODE.encode()).id).total_chunks == 1


def test_chunks_do_not_depend_on_how_the_text_is_fed() -> None:
    """Windows are cut by the text alone, so a file's count is the same
    whatever pieces its extraction or storage gave."""
    vocabulary = [f"word{i}" for i in range(1000)]
    rng = random.Random(2)
    prose = " ".join(rng.choices(vocabulary, k=40_000))
    markdown = "".join(
        f"# H{i}\n\n" + " ".join(rng.choices(vocabulary, k=rng.randint(10, 6000))) + "\n\n" for i in range(30)
    )
    for text, style in ((prose, "prose"), (markdown, "markdown")):
        results = {tuple(chunks_of(text, 100, style, piece)) for piece in (7, 1000, 65536, len(text))}
        assert len(results) == 1 and len(next(iter(results))) > 100
