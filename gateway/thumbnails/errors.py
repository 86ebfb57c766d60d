class MediaError(Exception):
    """Media the gateway cannot make a thumbnail of; the message says why."""


class Busy(Exception):
    """As many thumbnails as the backlog holds are waiting or being made."""
