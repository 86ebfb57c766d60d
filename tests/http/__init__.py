"""Tests of ``gateway/http/``, one module per module (home-assistant's
``tests/components/http/`` is the model).

Each piece is first tested on a tiny ``web.Application`` holding only it,
through pytest-aiohttp's ``aiohttp_client`` in the test's own loop; then,
where it matters, on the gateway's own app (``create_app`` on ``memory://``,
the same client). What a piece does alike on every backend is not run over
all three: only what depends on the storage (downloads, uploads cut short)
runs there, and the official clients' sync tests on a threaded gateway."""
