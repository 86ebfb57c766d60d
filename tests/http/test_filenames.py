"""Which file names an upload may have (``filenames.py``): kept exactly, or
refused with a 400 that says why. The rules alone; through each family's
client in tests/sessions/test_sdk.py and tests/folders/test_names.py."""

from __future__ import annotations

import pytest

from gateway.http.errors import ApiError
from gateway.http.filenames import check_name, check_path_name, from_form

KEPT = ["my report (final).pdf", "naïve café.txt", "日本語.md", 'quote".txt', "...", "a" * 255, "é" * 127, "..%2F"]
#: Refused by both rules, with the reason's words.
REFUSED = [
    ("", "must not be empty, '.' or '..'"),
    (".", "must not be empty, '.' or '..'"),
    ("..", "must not be empty, '.' or '..'"),
    ("..\\x.txt", "must not contain '\\'"),
    ("a\x00b", "control characters"),
    ("tab\there", "control characters"),
    ("del\x7f", "control characters"),
    (" lead", "whitespace"),
    ("trail ", "whitespace"),
    ("x" * 256, "at most 255 bytes"),
    ("é" * 128, "at most 255 bytes"),
    ("\ud800", "not valid UTF-8"),
]


def refusal(check, name: str) -> ApiError:  # noqa: ANN001
    with pytest.raises(ApiError) as caught:
        check(name)
    assert (caught.value.status, caught.value.kind) == (400, "validation_error")
    return caught.value


@pytest.mark.parametrize("name", KEPT)
@pytest.mark.parametrize("check", [check_name, check_path_name])
def test_safe_names_are_kept_exactly(check, name: str) -> None:  # noqa: ANN001
    assert check(name) == name


@pytest.mark.parametrize(("name", "reason"), REFUSED)
@pytest.mark.parametrize("check", [check_name, check_path_name])
def test_unsafe_names_are_refused_saying_why(check, name: str, reason: str) -> None:  # noqa: ANN001
    assert reason in refusal(check, name).message


@pytest.mark.parametrize("name", ["a/b.txt", "../escape.txt", "/abs"])
def test_a_plain_name_has_no_slash(name: str) -> None:
    assert refusal(check_name, name).message == "File name must not contain '/' or '\\'"


@pytest.mark.parametrize("name", ["folder_a/folder_b/notes.txt", "docs/v1.2/notes.md", "ü/日本/naïve name.txt"])
def test_path_like_names_are_kept_exactly(name: str) -> None:
    assert check_path_name(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("/etc/passwd.txt", "File name must not start with '/'"),
        ("a//b.txt", "Segment '' of the file name must not be empty, '.' or '..'"),
        ("a/b/", "Segment '' of the file name must not be empty"),
        ("a/./b.txt", "Segment '.' of the file name"),
        ("a/../b.txt", "Segment '..' of the file name"),
        ("a\n/b.txt", "Segment 'a\\n' of the file name must not contain control characters"),
        ("a /b.txt", "whitespace"),
        ("a/" + "x" * 252 + ".txt", "at most 255 bytes"),
        ("/".join(["d" * 200] * 5) + "/" + "y" * 16 + ".txt", "File name must be at most 1024 bytes of UTF-8"),
    ],
)
def test_path_like_names_refused_saying_which_segment(name: str, reason: str) -> None:
    assert reason in refusal(check_path_name, name).message


def test_path_limits_are_inclusive() -> None:
    longest_segment = "a/" + "é" * 125 + "x.txt"  # 250 + 5 = 255 bytes
    assert check_path_name(longest_segment) == longest_segment
    longest = "/".join(["d" * 200] * 5) + "/" + "y" * 15 + ".txt"
    assert len(longest.encode()) == 1024
    assert check_path_name(longest) == longest


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("quote%22.txt", 'quote".txt'),
        ("nul%00.txt", "nul\x00.txt"),
        ("line%0Abreak", "line\nbreak"),
        ("us%1f", "us\x1f"),
        ("..%2F..%2Fsecret", "..%2F..%2Fsecret"),  # not a separator: a literal name
        ("100%25.txt", "100%25.txt"),
        ("%20space", "%20space"),
    ],
)
def test_only_the_clients_escapes_are_decoded_from_the_form(raw: str, name: str) -> None:
    assert from_form(raw) == name
