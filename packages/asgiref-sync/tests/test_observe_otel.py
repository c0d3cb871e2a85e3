"""An OpenTelemetry integration built on asgiref.sync.observe, with the real SDK.

Agents today wrap ``SyncToAsync.__call__``/``thread_handler`` and
``AsyncToSync.main_wrap`` and inject arguments; this observer does the same job
(one span per hop, parented across threads and loops) through the public API.
The context-token question of asgiref #534 is in test_context_token_534.py.
"""

from __future__ import annotations

import threading
from typing import Any

import anyio
import pytest
from asgiref.sync import ThreadSensitiveContext, async_to_sync, sync_to_async
from asgiref.sync.observe import BridgeObserver, Hop, observing
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

pytestmark = pytest.mark.anyio


class _SpanSlot:
    """This observer's token for one hop: the span, and how to undo making it current."""

    __slots__ = ("detach", "span")

    def __init__(self, span: trace.Span) -> None:
        self.span = span
        self.detach: object = None


class OpenTelemetryBridgeObserver(BridgeObserver):
    """One span per hop, child of whatever span is current where the hop was made."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self.tracer = tracer

    def hop_submitted(self, hop: Hop) -> object:
        # Runs in the caller's context: the current span there becomes the parent.
        span = self.tracer.start_span(
            f"{hop.direction} {hop.name}",
            attributes={
                "asgiref.direction": hop.direction,
                "asgiref.thread_sensitive": hop.thread_sensitive,
                "asgiref.route": hop.route,
                "asgiref.caller_thread": hop.caller_thread,
            },
        )
        return _SpanSlot(span)

    def hop_started(self, hop: Hop, token: Any) -> None:
        # Runs in the context the work runs in: make the span current there.
        token.detach = otel_context.attach(trace.set_span_in_context(token.span))
        token.span.set_attribute("asgiref.thread", hop.thread or "")
        token.span.set_attribute("asgiref.lane", hop.lane)
        token.span.set_attribute("asgiref.queue_wait_s", hop.queue_wait or 0.0)

    def hop_ended(self, hop: Hop, token: Any) -> None:
        # Same context as hop_started, so detaching its token is always legal.
        otel_context.detach(token.detach)
        token.span.set_attribute("asgiref.run_time_s", hop.run_time or 0.0)
        if hop.error is not None:
            token.span.record_exception(hop.error)
            token.span.set_status(Status(StatusCode.ERROR))

    def hop_resumed(self, hop: Hop, token: Any) -> None:
        token.span.end()


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracer(exporter: InMemorySpanExporter) -> trace.Tracer:
    # A provider of our own: the global one can be set only once per process.
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("asgiref-observe-test")


def _parent_of(span: ReadableSpan, spans: dict[str, ReadableSpan]) -> str | None:
    if span.parent is None:
        return None
    for name, other in spans.items():
        if other.context is not None and other.context.span_id == span.parent.span_id:
            return name
    return "<unknown>"


async def test_one_span_per_hop_with_correct_parents_across_a_django_shaped_request(
    tracer: trace.Tracer, exporter: InMemorySpanExporter
) -> None:
    """ASGI handler -> thread-sensitive sync view -> async_to_sync -> sync_to_async ORM call."""
    threads: dict[str, str] = {}

    def orm_query() -> int:
        threads["query"] = threading.current_thread().name
        with tracer.start_as_current_span("SELECT"):
            return 7

    async def cache_lookup() -> int:
        return await sync_to_async(orm_query)()

    def view() -> int:
        threads["view"] = threading.current_thread().name
        with tracer.start_as_current_span("view body"):
            return async_to_sync(cache_lookup)()

    with (
        observing(OpenTelemetryBridgeObserver(tracer)),
        tracer.start_as_current_span("GET /articles/"),
    ):
        async with ThreadSensitiveContext():
            assert await sync_to_async(view)() == 7

    spans = {span.name: span for span in exporter.get_finished_spans()}
    # Hop spans are named "<direction> <qualified name>"; keep the last part of each name.
    assert sorted(name.rsplit(".", 1)[-1] for name in spans) == sorted(
        ["GET /articles/", "view", "view body", "cache_lookup", "orm_query", "SELECT"]
    )
    assert sorted(name.split(" ")[0] for name in spans if "<locals>" in name) == [
        "async_to_sync",
        "sync_to_async",
        "sync_to_async",
    ]
    short = {name.rsplit(".", 1)[-1].split(" ")[-1]: span for name, span in spans.items()}
    parents = {name: _parent_of(span, short) for name, span in short.items()}
    assert parents == {
        "/articles/": None,
        "view": "/articles/",
        "body": "view",
        "cache_lookup": "body",
        "orm_query": "cache_lookup",
        "SELECT": "orm_query",
    }
    # One trace; the ORM call ran on the view's thread (thread-sensitive), and says so.
    assert len({span.context.trace_id for span in spans.values() if span.context}) == 1
    assert threads["query"] == threads["view"]
    view_span = short["view"]
    assert view_span.attributes is not None
    assert view_span.attributes["asgiref.route"] == "context"
    assert view_span.attributes["asgiref.thread_sensitive"] is True
    assert view_span.attributes["asgiref.thread"] == threads["view"]
    bridge_span = short["cache_lookup"]
    assert bridge_span.attributes is not None
    assert bridge_span.attributes["asgiref.route"] == "parent-loop"
    # Every span made current was detached again: the caller is back at no span.
    assert not trace.get_current_span().get_span_context().is_valid


async def test_a_failing_hop_records_its_exception(
    tracer: trace.Tracer, exporter: InMemorySpanExporter
) -> None:
    def broken() -> None:
        raise KeyError("missing")

    with observing(OpenTelemetryBridgeObserver(tracer)), pytest.raises(KeyError):
        await sync_to_async(broken)()
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert [event.name for event in span.events] == ["exception"]


async def test_concurrent_requests_keep_their_own_traces(
    tracer: trace.Tracer, exporter: InMemorySpanExporter
) -> None:
    def view() -> str:
        return trace.get_current_span().get_span_context().trace_id.to_bytes(16, "big").hex()

    results: list[tuple[str, str]] = []

    async def request(n: int) -> None:
        with tracer.start_as_current_span(f"request {n}") as root:
            async with ThreadSensitiveContext():
                seen = await sync_to_async(view)()
            results.append((root.get_span_context().trace_id.to_bytes(16, "big").hex(), seen))

    with observing(OpenTelemetryBridgeObserver(tracer)):
        async with anyio.create_task_group() as group:
            for n in range(20):
                group.start_soon(request, n)
    assert len(results) == 20
    assert all(root == seen for root, seen in results)
    assert len(exporter.get_finished_spans()) == 40
