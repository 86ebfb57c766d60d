"""Where the folder store keeps folders and their files (``store.py``).

- ``folders/<id>.json``: the folder; ``folder-names/``: unique folder names
  (``claims.py``); ``folder-index/``: folders by creation time (``index.py``);
- ``folder-files/<folder id>/``: everything of one folder's files, removed
  with the folder: ``records/<id>.json`` (the FileMetadata), ``blobs/<id>``
  (the bytes), ``content/<id>`` (the extracted text), ``names/`` (claims
  on file names), ``originals/<sha256(name)>/<id>`` (which files stored
  as ``name_(N)`` were uploaded as ``name``) and ``index/``.

The processing jobs keep theirs in ``jobs.py``.
"""

import hashlib

FOLDERS = "folders/"
FOLDER_NAMES = "folder-names/"
FOLDER_INDEX = "folder-index/"


def folder(folder_id: str) -> str:
    return f"{FOLDERS}{folder_id}.json"


def folder_id_of(key: str) -> str:
    """The id of a folder listed under ``FOLDERS``."""
    return key[len(FOLDERS) :].removesuffix(".json")


def files(folder_id: str) -> str:
    return f"folder-files/{folder_id}/"


def record(folder_id: str, file_id: str) -> str:
    return f"{files(folder_id)}records/{file_id}.json"


def blobs(folder_id: str) -> str:
    return f"{files(folder_id)}blobs/"


def blob(folder_id: str, file_id: str) -> str:
    return f"{blobs(folder_id)}{file_id}"


def content(folder_id: str, file_id: str) -> str:
    return f"{files(folder_id)}content/{file_id}"


def names(folder_id: str) -> str:
    return f"{files(folder_id)}names/"


def index(folder_id: str) -> str:
    return f"{files(folder_id)}index/"


def original(folder_id: str, name: str, file_id: str = "") -> str:
    """The marker of a file uploaded as ``name``; without ``file_id``, the
    prefix of all of them."""
    return f"{files(folder_id)}originals/{hashlib.sha256(name.encode()).hexdigest()}/{file_id}"
