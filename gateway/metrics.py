"""Prometheus metrics (``GET /metrics``), with prometheus-client.

Each app has its own registry, so several apps in one process (the tests)
keep separate counts. Requests are labelled by route template, never by raw
path, so the number of series stays bounded.
"""

from __future__ import annotations

import time

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from .http.downloads import body_bytes, status_for_logs


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ["route", "method"]
        self.requests = Counter("gateway_requests", "Requests answered", [*labels, "status"], registry=self.registry)
        self.duration = Histogram(
            "gateway_request_duration_seconds",
            "Time to answer a request, body included",
            labels,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=self.registry,
        )
        self.bytes_in = Counter("gateway_received_bytes", "Request body bytes read", labels, registry=self.registry)
        self.bytes_out = Counter("gateway_sent_bytes", "Response body bytes sent", labels, registry=self.registry)
        self.uploads_in_progress = Gauge(
            "gateway_uploads_in_progress", "Uploads being received", registry=self.registry
        )
        self.thumbnail_seconds = Histogram(
            "gateway_thumbnail_seconds",
            "Time to make a thumbnail (cache misses only)",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.thumbnails_queued = Gauge(
            "gateway_thumbnails_queued", "Thumbnails waiting for a worker or being made", registry=self.registry
        )
        self.thumbnail_copies = Gauge(
            "gateway_thumbnail_copies", "Reduced image copies kept in memory for thumbnails", registry=self.registry
        )
        self.thumbnail_copy_bytes = Gauge(
            "gateway_thumbnail_copy_bytes", "Bytes of the reduced image copies kept in memory", registry=self.registry
        )
        self.processing_seconds = Histogram(
            "gateway_processing_seconds",
            "Time to process an uploaded folder file, by final status",
            ["status"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=self.registry,
        )
        self.processing_queued = Gauge(
            "gateway_processing_queued", "Folder files queued or being processed here", registry=self.registry
        )
        self.storage_errors = Counter(
            "gateway_storage_unavailable", "Requests failed because the storage was unavailable",
            registry=self.registry,
        )  # fmt: skip
        self.connections_open = Gauge(
            "gateway_connections", "Client connections open in this process", registry=self.registry
        )
        self.connections_cut = Counter(
            "gateway_connections_cut",
            "Connections closed on a client: headers too slow (header_timeout), a body that stopped"
            " (body_timeout, after its 408), more connections than max_connections (over_limit)",
            ["reason"],
            registry=self.registry,
        )
        self.storage_full = Counter(
            "gateway_storage_full", "Requests failed because the storage was full (507)", registry=self.registry
        )

    def middleware(self) -> Middleware:
        @web.middleware
        async def measure(request: web.Request, handler: Handler) -> web.StreamResponse:
            started = time.perf_counter()
            resource = request.match_info.route.resource
            labels = (resource.canonical if resource is not None else "unmatched", request.method)
            response: web.StreamResponse | None = None
            status = 500
            try:
                response = await handler(request)
                status = status_for_logs(response)
                return response
            except web.HTTPException as exc:
                status = exc.status
                raise
            finally:
                self.requests.labels(*labels, str(status)).inc()
                self.duration.labels(*labels).observe(time.perf_counter() - started)
                self.bytes_in.labels(*labels).inc(request.content.total_bytes)
                if response is not None:
                    self.bytes_out.labels(*labels).inc(body_bytes(request.method, response))

        return measure

    async def view(self, request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


PATH = "/metrics"
METRICS = web.AppKey("metrics", Metrics)
