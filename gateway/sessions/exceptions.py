"""What the session store refuses, in its own terms; the family's error
middleware gives each its HTTP status and error type (``errors.py``)."""


class SessionRefusal(Exception):
    """Something the session API refuses; ``str()`` is the message."""


class SessionNotFound(SessionRefusal):
    pass


class InvalidSessionId(SessionRefusal):
    """A session id that is not a UUID."""
