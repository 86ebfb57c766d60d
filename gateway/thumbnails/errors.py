class MediaError(Exception):
    """Media the gateway cannot make a thumbnail of; the message says why."""
