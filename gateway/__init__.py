"""The file gateway: Mix session files and Letta folder files over one storage layer."""

__version__ = "0.1.0"
