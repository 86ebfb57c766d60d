"""All settings in one place, from flags, environment, a TOML file or defaults.

Precedence: command-line flag > ``GATEWAY_*`` environment variable > TOML
file (``--config``) > default. Every value is checked here, so a bad one
stops the gateway at start with one clear line.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from backends import StorageConfigError, backend_from_url

from .http.forwarded import Network


class SettingsError(ValueError):
    """A setting that cannot work; its message names the setting."""


@dataclass(frozen=True)
class Settings:
    #: Address to listen on. Loopback by default; containers set 0.0.0.0.
    host: str = "127.0.0.1"
    port: int = 8088
    #: Where everything is stored: memory://, file:///abs/path, file://./rel/path.
    storage: str = "file://./data"
    #: Largest accepted upload, in bytes (2 GiB by default).
    max_upload_bytes: int = 2 * 1024**3
    #: Bearer keys; empty means no authentication.
    api_keys: tuple[str, ...] = ()
    #: Peers whose X-Forwarded-*/Forwarded headers are believed.
    trusted_proxies: tuple[Network, ...] = ()
    #: Largest image (width × height) a thumbnail is made of; more is a 400.
    max_image_pixels: int = 50_000_000
    #: Seconds a request waits for a thumbnail being made; then it gets a
    #: 503 with Retry-After while the making finishes and is cached.
    thumbnail_timeout: float = 30.0
    #: After SIGTERM, seconds to keep serving with readiness at 503, so that
    #: load balancers stop sending new requests before the listener closes.
    drain_seconds: float = 0.0
    #: Then, seconds in-flight requests get to finish before the exit; keep
    #: drain + grace below Kubernetes' terminationGracePeriodSeconds (30).
    shutdown_grace: float = 25.0
    #: Files of the folder API processed at once by this process; 0 leaves
    #: processing to other replicas.
    processing_workers: int = 2
    #: Seconds a processing job stays with a process that stopped renewing
    #: it (a crash) before another process takes it over.
    processing_lease_seconds: float = 30.0
    #: Seconds one file's processing may take (extraction, chunking,
    #: embedding); past it the file ends in ``error``.
    processing_timeout: float = 300.0
    #: Largest extracted text of one file, in bytes of UTF-8; more is an ``error``.
    processing_max_text_bytes: int = 64 * 1024**2
    #: Times a file's processing may be started and cut by a crash or a
    #: kill (a SIGTERM hands it back uncounted) before it ends in ``error``.
    processing_max_attempts: int = 3
    #: Seconds a folder file's bytes without a record (left by a crash) are
    #: kept before they are collected.
    orphan_grace: float = 3600.0
    #: Origins (``scheme://host[:port]``) whose pages may call the APIs, or
    #: ``*`` for any; empty sends no CORS headers (see ``http/cors.py``).
    cors_origins: tuple[str, ...] = ()
    #: Keys of the signed links handed out when API keys are set: the first
    #: signs, all verify. Empty: keys derived from the API keys.
    url_signing_key: tuple[str, ...] = ()
    #: Seconds a signed link works, at least (see ``http/signing.py``).
    url_ttl: int = 3600
    #: Seconds a client has from connecting (or, on a kept-alive connection,
    #: from the first byte of its next request) to the end of the request's
    #: headers; then the connection is closed (see ``server.py``).
    header_timeout: float = 20.0
    #: Seconds a request body may go without a byte while the gateway reads
    #: it; then the request ends with 408 and nothing is stored.
    body_timeout: float = 120.0
    #: Seconds a kept-alive connection may sit idle between requests; longer
    #: than the usual proxy's 60, so a proxy never reuses one being closed.
    keepalive_timeout: float = 75.0
    #: Connections this process holds at once, at most (kept below the file
    #: descriptor limit); see ``server.py`` for what happens at the bound.
    max_connections: int = 1000


def _int_in(low: int, high: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, str) and value.strip().replace("_", "").isdigit():
            value = int(value.strip().replace("_", ""))
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected an integer, got {value!r}")
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value

    return parse


def _seconds_up_to(high: float) -> Callable[[Any], float]:
    def parse(value: Any) -> float:
        if isinstance(value, bool):
            raise ValueError(f"expected a number of seconds, got {value!r}")
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"expected a number of seconds, got {value!r}") from None
        if not 0 <= seconds <= high:
            raise ValueError(f"must be between 0 and {high:g} seconds")
        return seconds

    return parse


def _positive_seconds_up_to(high: float) -> Callable[[Any], float]:
    within = _seconds_up_to(high)

    def parse(value: Any) -> float:
        if (seconds := within(value)) == 0:
            raise ValueError("must be more than 0 seconds")
        return seconds

    return parse


def _items(value: Any) -> list[str]:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value if item.strip()]
    raise ValueError("expected a comma-separated string or a list of strings")


def _host(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected a host name or address")
    return value.strip()


def _storage(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a storage URL")
    try:
        backend_from_url(value)
    except StorageConfigError as exc:
        raise ValueError(str(exc)) from None
    return value


def _keys(value: Any) -> tuple[str, ...]:
    keys = _items(value)
    if any(len(key) < 16 or " " in key for key in keys):
        raise ValueError("each API key needs at least 16 characters and no spaces")
    return tuple(keys)


def _signing_keys(value: Any) -> tuple[str, ...]:
    keys = _items(value)
    if any(len(key) < 32 or " " in key for key in keys):
        raise ValueError("each URL signing key needs at least 32 characters and no spaces")
    return tuple(keys)


ORIGIN = re.compile(r"(https?)://([a-z0-9.-]+|\[[0-9a-f:.]+\])(:[0-9]{1,5})?")


def _origins(value: Any) -> tuple[str, ...]:
    """``*`` alone, or origins as browsers send them: lower case, no path."""
    origins = tuple(item.lower().rstrip("/") for item in _items(value))
    if origins == ("*",):
        return origins
    for origin in origins:
        if not ORIGIN.fullmatch(origin):
            raise ValueError(f"{origin!r} is not an origin like https://app.example.com[:port], nor * alone")
    return origins


def _networks(value: Any) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in _items(value))


PARSERS: dict[str, Callable[[Any], Any]] = {
    "host": _host,
    "port": _int_in(1, 65535),
    "storage": _storage,
    "max_upload_bytes": _int_in(1, 2**63 - 1),
    "api_keys": _keys,
    "trusted_proxies": _networks,
    "max_image_pixels": _int_in(1, 2**40),
    "thumbnail_timeout": _positive_seconds_up_to(600),
    "drain_seconds": _seconds_up_to(600),
    "shutdown_grace": _seconds_up_to(3600),
    "processing_workers": _int_in(0, 64),
    "processing_lease_seconds": _positive_seconds_up_to(3600),
    "processing_timeout": _positive_seconds_up_to(24 * 3600),
    "processing_max_text_bytes": _int_in(1, 2**40),
    "processing_max_attempts": _int_in(1, 100),
    "orphan_grace": _positive_seconds_up_to(7 * 24 * 3600),
    "cors_origins": _origins,
    "url_signing_key": _signing_keys,
    "url_ttl": _int_in(60, 7 * 24 * 3600),
    "header_timeout": _positive_seconds_up_to(600),
    "body_timeout": _positive_seconds_up_to(3600),
    "keepalive_timeout": _positive_seconds_up_to(3600),
    "max_connections": _int_in(1, 1_000_000),
}
assert set(PARSERS) == {f.name for f in fields(Settings)}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gateway", description="File gateway: Mix session files and Letta folder files.")
    p.add_argument("--host", help="address to listen on (GATEWAY_HOST; default 127.0.0.1)")
    p.add_argument("--port", help="port to listen on (GATEWAY_PORT; default 8088)")
    p.add_argument(
        "--storage", metavar="URL", help="memory://, file:///abs/path or file://./rel/path (GATEWAY_STORAGE)"
    )
    p.add_argument("--config", metavar="FILE", help="TOML file with any of the settings above")
    return p


def load_settings(argv: Sequence[str] | None, environ: Mapping[str, str]) -> Settings:
    """Merge flags, environment, file and defaults; raise ``SettingsError``."""
    args = parser().parse_args(argv)
    layers: list[tuple[str, Mapping[str, Any]]] = []
    if args.config:
        layers.append((f"{args.config}", _read_toml(Path(args.config))))
    layers.append(
        (
            "environment",
            {name: environ[f"GATEWAY_{name.upper()}"] for name in PARSERS if f"GATEWAY_{name.upper()}" in environ},
        )
    )
    layers.append(
        (
            "command line",
            {name: getattr(args, name) for name in ("host", "port", "storage") if getattr(args, name) is not None},
        )
    )
    values: dict[str, Any] = {}
    for source, layer in layers:
        for name, raw in layer.items():
            try:
                values[name] = PARSERS[name](raw)
            except (ValueError, TypeError) as exc:
                raise SettingsError(f"invalid {name} from {source}: {exc}") from None
    return Settings(**values)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise SettingsError(f"cannot read config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None
    if unknown := sorted(set(data) - set(PARSERS)):
        raise SettingsError(f"config file {path} has unknown settings: {', '.join(unknown)}")
    return data
