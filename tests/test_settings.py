"""Settings: flag > environment > file > default, and one clear line for bad values."""

from __future__ import annotations

import re
import subprocess
import sys
from ipaddress import ip_network
from pathlib import Path

import pytest

from gateway.settings import Settings, SettingsError, load_settings

from .server import free_port


def test_defaults() -> None:
    assert load_settings([], {}) == Settings()
    assert (Settings().port, Settings().storage, Settings().api_keys) == (8088, "file://./data", ())


def test_precedence(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('port = 1111\nhost = "0.0.0.0"\nstorage = "memory://"\napi_keys = ["from-file-0123456789"]\n')
    from_file = load_settings(["--config", str(config)], {})
    assert (from_file.port, from_file.host, from_file.storage, from_file.api_keys) == (
        1111,
        "0.0.0.0",
        "memory://",
        ("from-file-0123456789",),
    )
    env = {"GATEWAY_PORT": "2222", "GATEWAY_API_KEYS": "env-key-a-0123456789, env-key-b-0123456789"}
    from_env = load_settings(["--config", str(config)], env)
    assert (from_env.port, from_env.host, from_env.api_keys) == (
        2222,
        "0.0.0.0",
        ("env-key-a-0123456789", "env-key-b-0123456789"),
    )
    from_flag = load_settings(["--config", str(config), "--port", "3333", "--storage", "file:///srv"], env)
    assert (from_flag.port, from_flag.storage) == (3333, "file:///srv")


def test_environment() -> None:
    settings = load_settings(
        [],
        {
            "GATEWAY_HOST": "::",
            "GATEWAY_STORAGE": "memory://",
            "GATEWAY_MAX_UPLOAD_BYTES": "10_000",
            "GATEWAY_API_KEYS": "",
            "GATEWAY_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1, ::1",
            "GATEWAY_DRAIN_SECONDS": "5",
            "GATEWAY_SHUTDOWN_GRACE": "20.5",
            "GATEWAY_HEADER_TIMEOUT": "5",
            "GATEWAY_BODY_TIMEOUT": "300",
            "GATEWAY_KEEPALIVE_TIMEOUT": "30.5",
            "GATEWAY_MAX_CONNECTIONS": "500",
        },
    )
    assert (settings.drain_seconds, settings.shutdown_grace) == (5.0, 20.5)
    assert (settings.header_timeout, settings.body_timeout, settings.keepalive_timeout) == (5.0, 300.0, 30.5)
    assert settings.max_connections == 500
    assert settings.max_upload_bytes == 10_000
    assert settings.api_keys == ()
    assert settings.trusted_proxies == (ip_network("10.0.0.0/8"), ip_network("192.168.1.1/32"), ip_network("::1/128"))


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--port", "0"], {}, "invalid port from command line: must be between 1 and 65535"),
        (["--port", "http"], {}, "invalid port from command line: expected an integer"),
        ([], {"GATEWAY_PORT": "99999"}, "invalid port from environment"),
        ([], {"GATEWAY_STORAGE": "ftp://x"}, "invalid storage from environment: unknown storage URL 'ftp://x'"),
        ([], {"GATEWAY_MAX_UPLOAD_BYTES": "-1"}, "invalid max_upload_bytes"),
        (
            [],
            {"GATEWAY_API_KEYS": "short"},
            "invalid api_keys from environment: each API key needs at least 16 characters",
        ),
        ([], {"GATEWAY_TRUSTED_PROXIES": "10.0.0.0/33"}, "invalid trusted_proxies"),
        (["--config", "/nonexistent.toml"], {}, "cannot read config file"),
        (
            [],
            {"GATEWAY_SHUTDOWN_GRACE": "soon"},
            "invalid shutdown_grace from environment: expected a number of seconds",
        ),
        ([], {"GATEWAY_DRAIN_SECONDS": "-1"}, "invalid drain_seconds from environment: must be between 0 and 600"),
        ([], {"GATEWAY_HEADER_TIMEOUT": "0"}, "invalid header_timeout from environment: must be more than 0 seconds"),
        ([], {"GATEWAY_BODY_TIMEOUT": "never"}, "invalid body_timeout from environment: expected a number of seconds"),
        ([], {"GATEWAY_MAX_CONNECTIONS": "0"}, "invalid max_connections from environment: must be between 1 and"),
    ],
)
def test_invalid_settings(argv: list[str], env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match="^" + re.escape(message)):
        load_settings(argv, env)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("port = [", "is not valid TOML"),
        ("colour = 1", "unknown settings: colour"),
        ("port = true", "invalid port"),
        ("port = 1.5", "invalid port"),
    ],
)
def test_invalid_config_files(tmp_path: Path, content: str, message: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(content)
    with pytest.raises(SettingsError, match=message):
        load_settings(["--config", str(config)], {})


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ["--storage", "nope://"],
            {},
            "gateway: error: invalid storage from command line: "
            "unknown storage URL 'nope://': expected one of memory://, file://, s3://",
        ),
        ([], {"GATEWAY_PORT": "abc"}, "gateway: error: invalid port from environment: expected an integer, got 'abc'"),
    ],
)
def test_cli_exits_with_one_line(args: list[str], env: dict[str, str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway", *args], env={"PATH": "", **env}, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert result.stderr.strip() == message


def test_cli_reports_unusable_storage_in_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "--storage", f"file://{blocker}/data", "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith("gateway: error: cannot use")
    assert "Traceback" not in result.stderr
