"""Path-like file names in the folder API, through the official letta-client,
on every backend (the session API keeps plain names: tests/sessions)."""

from __future__ import annotations

import io

import letta_client
import pytest
from letta_client import Letta

NESTED = "folder_a/folder_b/another_custom_name.txt"


def upload(client: Letta, folder_id: str, filename: str = "x.txt", **params):
    return client.folders.files.upload(folder_id, file=(filename, io.BytesIO(b"some words")), **params)


def test_a_path_like_name_is_kept(client: Letta, folder_id: str) -> None:
    """Upstream's own test: the custom name is the file name and the original."""
    meta = upload(client, folder_id, "ignored.txt", name=NESTED)
    assert (meta.file_name, meta.original_file_name) == (NESTED, NESTED)
    assert client.folders.files.retrieve(meta.id, folder_id=folder_id).file_name == NESTED
    assert [f.file_name for f in client.folders.files.list(folder_id)] == [NESTED]
    # The multipart filename may be path-like too, and a leading dot is
    # refused only in the last segment.
    assert upload(client, folder_id, "docs/v1.2/notes.md").file_name == "docs/v1.2/notes.md"
    assert upload(client, folder_id, name=".config/app.toml").file_name == ".config/app.toml"
    assert upload(client, folder_id, name="ü/日本/naïve name.txt").file_name == "ü/日本/naïve name.txt"


def test_duplicates_work_on_the_whole_name(client: Letta, folder_id: str) -> None:
    first = upload(client, folder_id, name="a/b/x.txt")
    assert upload(client, folder_id, name="a/b/x.txt").file_name == "a/b/x_(1).txt"
    assert upload(client, folder_id, name="a/b/x.txt", duplicate_handling="suffix").file_name == "a/b/x_(2).txt"
    # Another path, or the bare name, is another file.
    assert upload(client, folder_id, name="a/c/x.txt").file_name == "a/c/x.txt"
    assert upload(client, folder_id, name="x.txt").file_name == "x.txt"
    # A dot in a folder is not an extension.
    assert upload(client, folder_id, name="v1.5/readme").file_name == "v1.5/readme"
    assert upload(client, folder_id, name="v1.5/readme").file_name == "v1.5/readme_(1)"

    raw = client.folders.files.with_raw_response.upload(
        folder_id, file=("x.txt", io.BytesIO(b"other")), name="a/b/x.txt", duplicate_handling="skip"
    )
    assert raw.headers["x-upload-result"] == "skipped" and raw.parse().id == first.id
    with pytest.raises(letta_client.BadRequestError) as caught:
        upload(client, folder_id, name="a/b/x.txt", duplicate_handling="error")
    assert caught.value.body == {"detail": "INVALID_ARGUMENT: File 'a/b/x.txt' already exists in folder 'tests'"}
    replaced = upload(client, folder_id, name="a/b/x.txt", duplicate_handling="replace")
    assert replaced.id != first.id and replaced.file_name == "a/b/x.txt"
    with pytest.raises(letta_client.NotFoundError):
        client.folders.files.retrieve(first.id, folder_id=folder_id)
    listed = sorted(f.file_name for f in client.folders.files.list(folder_id))
    assert listed == sorted(
        ["a/b/x.txt", "a/b/x_(1).txt", "a/b/x_(2).txt", "a/c/x.txt", "x.txt", "v1.5/readme", "v1.5/readme_(1)"]
    )


# Refused before anything is stored, alike on every backend: the rules are
# tests/http/test_filenames.py's; here what the client sees, in memory only.
@pytest.mark.parametrize("backend_kind", ["memory"])
@pytest.mark.parametrize(
    "name",
    [
        "/etc/passwd.txt",  # leading /
        "a//b.txt",  # empty segment
        "a/b/",  # empty last segment
        "a/./b.txt",
        "a/../b.txt",
        "../b.txt",
        "a/..",
        "a/.hidden.txt",  # leading dot in the last segment
        ".hidden.txt",
        "a/b\\c.txt",
        "a/b\x00.txt",
        "a\n/b.txt",
        "a/b\x7f.txt",
        " a/b.txt",
        "a /b.txt",
        "a/" + "x" * 252 + ".txt",  # a segment of 256 bytes
        "/".join(["d" * 200] * 5) + "/" + "y" * 16 + ".txt",  # 1025 bytes
    ],
)
def test_refused_names(client: Letta, folder_id: str, name: str) -> None:
    with pytest.raises(letta_client.BadRequestError) as caught:
        upload(client, folder_id, name=name)
    assert caught.value.body["detail"]
    assert client.folders.files.list(folder_id).items == []


def test_limits_are_inclusive(client: Letta, folder_id: str) -> None:
    longest_segment = "a/" + "é" * 125 + "x.txt"  # 250 + 5 = 255 bytes
    assert upload(client, folder_id, name=longest_segment).file_name == longest_segment
    longest = "/".join(["d" * 200] * 5) + "/" + "y" * 15 + ".txt"
    assert len(longest.encode()) == 1024
    assert upload(client, folder_id, name=longest).file_name == longest
