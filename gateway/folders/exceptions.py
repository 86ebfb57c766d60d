"""What the folder store and its models refuse, in their own terms.

Each exception's message is what the client is told; the family's error
middleware gives each its HTTP status (``errors.py``), so the store knows
nothing of HTTP. Callers that mean "gone" catch the precise one.
"""


class FolderRefusal(Exception):
    """Something the folder API refuses; ``str()`` is the message."""


class FolderNotFound(FolderRefusal):
    pass


class FileNotFound(FolderRefusal):
    pass


class NameTaken(FolderRefusal):
    """Another folder holds the name."""


class DuplicateName(FolderRefusal):
    """A file of that name exists and the upload's mode is ``error``."""


class TooManyCopies(FolderRefusal):
    """No ``name_(N).ext`` was free for an upload in ``suffix`` mode."""


class InvalidId(FolderRefusal):
    """Not an id of the kind the route or cursor names."""


class BadCursor(FolderRefusal):
    """A cursor that is no item of the listing."""
