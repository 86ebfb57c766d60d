"""``/docs`` in a real headless Chromium: Swagger UI renders every
operation of ``/openapi.json`` from files the gateway serves itself (its
Content-Security-Policy would stop anything else), and "Try it out" calls
the gateway with the key given to Authorize."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from gateway.settings import Settings

from ..server import ThreadedGateway
from .chrome import chromium

KEY = "docs-key-0123456789abc"


def wait_for(driver, script: str, seconds: float = 60):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + seconds
    while not (value := driver.execute_script(script)):
        assert time.monotonic() < deadline, f"not true after {seconds} s: {script}"
        time.sleep(0.1)
    return value


def test_docs_render_every_operation(tmp_path: Path) -> None:
    with ThreadedGateway(Settings(storage="memory://", api_keys=(KEY,))) as gateway:
        document = httpx.get(f"{gateway.url}/openapi.json").json()
        count = sum(1 for item in document["paths"].values() for method in item if method != "parameters")
        with chromium(tmp_path / "profile") as driver:
            driver.get(f"{gateway.url}/docs")
            shown = wait_for(
                driver, f"const n = document.querySelectorAll('.opblock').length; return n >= {count} && n"
            )
            assert shown == count
            assert "File gateway" in driver.find_element("css selector", ".info .title").text
            loaded = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
            assert loaded and all(url.startswith(gateway.url) for url in loaded), loaded
            # Authorize with the key, as a person would, then try GET /api/sessions.
            driver.find_element("css selector", ".btn.authorize").click()
            field = wait_for(driver, "return document.querySelector('.auth-container input')")
            field.send_keys(KEY)
            driver.find_element("css selector", ".auth-btn-wrapper .authorize").click()
            driver.find_element("css selector", ".btn-done").click()
            block = driver.find_element("css selector", "#operations-sessions-sessions-get")
            block.find_element("css selector", ".opblock-summary").click()
            wait_for(driver, "return document.querySelector('#operations-sessions-sessions-get .try-out__btn')")
            block.find_element("css selector", ".try-out__btn").click()
            block.find_element("css selector", ".execute").click()
            status = wait_for(
                driver,
                "const c = document.querySelector('#operations-sessions-sessions-get .live-responses-table"
                " tbody .response-col_status'); return c && c.textContent.trim()",
            )
            assert status == "200"
            driver.save_screenshot(str(tmp_path / "docs.png"))
            errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
            assert errors == []
