"""The gateway behind a real nginx with deploy/nginx/gateway.conf: streaming
both ways, URLs as the proxy's clients see them, forged headers ignored."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from string import Template

import httpx
import pytest

from .process import GatewayProcess
from .server import free_port

CONF = Path(__file__).parent.parent / "deploy" / "nginx" / "gateway.conf"
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (Debian package nginx-light)")


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[GatewayProcess, str]]:
    env = {"GATEWAY_TRUSTED_PROXIES": "127.0.0.1/32"}
    with GatewayProcess(f"file://{tmp_path / 'data'}", env) as gateway:
        port = free_port()
        rendered = Template(CONF.read_text()).safe_substitute(
            GATEWAY_UPSTREAM=f"127.0.0.1:{gateway.port}", NGINX_LISTEN=f"127.0.0.1:{port}"
        )
        (tmp_path / "gateway.conf").write_text(rendered)
        (tmp_path / "nginx.conf").write_text(
            f"""
            pid {tmp_path}/nginx.pid;
            error_log {tmp_path}/error.log;
            events {{}}
            http {{
                access_log off;
                client_body_temp_path {tmp_path}/body;
                proxy_temp_path {tmp_path}/proxy;
                include {tmp_path}/gateway.conf;
            }}
            """
        )
        nginx = subprocess.Popen(
            [NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 20
            while True:
                try:
                    if httpx.get(f"{url}/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    if nginx.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"nginx did not start: {nginx.stderr.read().decode()}") from None
                    time.sleep(0.1)
            yield gateway, url
        finally:
            nginx.terminate()
            nginx.wait(timeout=20)


def test_streaming_upload_and_download_through_nginx(proxied: tuple[GatewayProcess, str]) -> None:
    _, url = proxied
    session_id = httpx.post(f"{url}/api/sessions", json={"title": "proxied"}).json()["id"]
    size, block = 256 * 1024 * 1024, os.urandom(1024 * 1024)
    sent = hashlib.sha256()

    def body() -> Iterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="big file.bin"\r\n\r\n'
        for index in range(size // len(block)):
            chunk = index.to_bytes(8, "big") + block[8:]
            sent.update(chunk)
            yield chunk
        yield b"\r\n--b--\r\n"

    uploaded = httpx.post(
        f"{url}/api/sessions/{session_id}/files/upload",
        content=body(),
        headers={"Content-Type": "multipart/form-data; boundary=b", "X-Request-ID": "through-nginx"},
        timeout=300,
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.headers["x-request-id"] == "through-nginx"
    info = uploaded.json()
    assert info["size"] == size
    # The URL is the proxy's, as its clients see it.
    assert info["url"].startswith(f"{url}/api/sessions/{session_id}/files/big%20file.bin?v=")

    received = hashlib.sha256()
    with httpx.stream("GET", info["url"], timeout=300) as response:
        assert response.status_code == 200
        assert response.headers["content-length"] == str(size)
        for chunk in response.iter_bytes():
            received.update(chunk)
    assert received.hexdigest() == sent.hexdigest()

    ranged = httpx.get(info["url"], headers={"Range": "bytes=10-19"})
    assert (ranged.status_code, ranged.content) == (206, (0).to_bytes(8, "big")[10:] + block[10:20])


def test_forwarded_headers_from_a_client_are_replaced_by_nginx(proxied: tuple[GatewayProcess, str]) -> None:
    _, url = proxied
    forged = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}
    session_id = httpx.post(f"{url}/api/sessions", json={"title": "forged"}).json()["id"]
    response = httpx.post(
        f"{url}/api/sessions/{session_id}/files/upload", files={"file": ("a.txt", b"a")}, headers=forged
    )
    assert response.json()["url"].startswith(f"{url}/api/sessions/")


def test_forwarded_headers_from_an_untrusted_direct_client_are_ignored(proxied: tuple[GatewayProcess, str]) -> None:
    gateway, _ = proxied
    # Another loopback address than nginx's: not a trusted proxy.
    direct = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"))
    forged = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example", "X-Forwarded-For": "1.2.3.4"}
    session_id = direct.post(f"{gateway.url}/api/sessions", json={"title": "direct"}).json()["id"]
    response = direct.post(
        f"{gateway.url}/api/sessions/{session_id}/files/upload", files={"file": ("a.txt", b"a")}, headers=forged
    )
    assert response.json()["url"].startswith(f"{gateway.url}/api/sessions/")
