"""Errors a backend raises; callers map them to their own API's errors."""


class StorageError(Exception):
    """Base of the errors a backend raises."""


class NotFound(StorageError):
    def __init__(self, key: str) -> None:
        super().__init__(f"no object at {key!r}")
        self.key = key


class AlreadyExists(StorageError):
    def __init__(self, key: str) -> None:
        super().__init__(f"an object already exists at {key!r}")
        self.key = key


class InvalidKey(StorageError, ValueError):
    """A key that could escape the storage root or that no backend can hold."""


class StorageConfigError(StorageError, ValueError):
    """A storage URL or setting that cannot work; raised at start-up."""


class ObjectChanged(StorageError):
    """The version an open ``Blob`` stands for was replaced before it was read
    (S3 keeps no old versions); open the key again."""

    def __init__(self, key: str) -> None:
        super().__init__(f"the object at {key!r} changed while being read")
        self.key = key


class StorageUnavailable(StorageError):
    """The storage cannot be reached or fails; worth retrying later."""


class StorageFull(StorageError):
    """No room for the write (a full disk or quota, an object over the
    store's size limit); nothing of it was kept. Worth retrying once space
    is freed."""
