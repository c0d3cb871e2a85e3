"""A request's bridge hops drawn as a waterfall, from asgiref.sync.observe events.

One Django-shaped request: an async handler calls a thread-sensitive sync view,
the view calls async code with async_to_sync, which runs ORM queries with
sync_to_async (back on the view's thread) and a few non-thread-sensitive calls
at once. An observer records each hop's four events; the chart shows, per hop:

  ·  queued: submitted, waiting for its thread or loop
  █  running on its thread (sync_to_async) or loop (async_to_sync)
  ░  done, the caller not resumed yet (a thread wake-up)
"""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
from typing import Any

from asgiref.sync import ThreadSensitiveContext, async_to_sync, sync_to_async
from asgiref.sync.observe import BridgeObserver, Hop, observing


class HopCollector(BridgeObserver):
    """Keeps every hop; the events fill in its times."""

    def __init__(self) -> None:
        self.hops: list[Hop] = []
        self._lock = threading.Lock()

    def hop_submitted(self, hop: Hop) -> object:
        with self._lock:
            self.hops.append(hop)
        return None


def orm_query(table: str) -> int:
    time.sleep(0.004)  # the database round trip
    return len(table)


def render_thumbnail(size: int) -> int:
    time.sleep(0.006)  # CPU-bound work, fine off the request's thread
    return size


async def cached_page() -> int:
    rows = await sync_to_async(orm_query)("articles")
    rows += await sync_to_async(orm_query)("authors")
    sizes = await asyncio.gather(
        *(sync_to_async(render_thumbnail, thread_sensitive=False)(s) for s in (64, 128, 256))
    )
    return rows + sum(sizes)


def article_view() -> int:
    time.sleep(0.002)  # template work before the async part
    return async_to_sync(cached_page)()


async def handle_request() -> int:
    async with ThreadSensitiveContext():
        return await sync_to_async(article_view)()


def draw(hops: list[Hop], width: int) -> None:
    start = min(hop.submitted_at for hop in hops)
    end = max(hop.resumed_at or hop.submitted_at for hop in hops)
    label_width = 56
    columns = max(width - label_width - 12, 20)
    scale = columns / max(end - start, 1e-9)

    def column(t: float | None) -> int:
        return round(((t or end) - start) * scale)

    print(f"{'hop':<{label_width}} 0{'ms':>{columns - 1}} {(end - start) * 1e3:6.1f}")
    for hop in sorted(hops, key=lambda h: h.submitted_at):
        kind = "s2a" if hop.direction == "sync_to_async" else "a2s"
        ts = " TS" if hop.thread_sensitive else ""
        label = f"{'  ' * hop.depth}{kind} {hop.name}{ts} @{hop.thread}"
        submitted, started = column(hop.submitted_at), column(hop.started_at)
        ended, resumed = column(hop.ended_at), column(hop.resumed_at)
        bar = (
            " " * submitted
            + "·" * (started - submitted)
            + "█" * max(ended - started, 1)
            + "░" * max(resumed - max(ended, started + 1), 0)
        )
        print(f"{label[:label_width]:<{label_width}} {bar}")


def main() -> None:
    collector = HopCollector()
    asyncio.run(handle_request())  # warm-up: threads and loops exist already
    with observing(collector):
        result = asyncio.run(handle_request())
    print(f"request returned {result}; {len(collector.hops)} hops\n")
    draw(collector.hops, shutil.get_terminal_size((110, 20)).columns)
    print()
    print(f"{'hop':<40} {'route':<13} {'lane':<22} {'queued':>8} {'ran':>8}")
    for hop in sorted(collector.hops, key=lambda h: h.submitted_at):
        queued = f"{(hop.queue_wait or 0) * 1e3:.2f}ms"
        ran = f"{(hop.run_time or 0) * 1e3:.2f}ms"
        name = "  " * hop.depth + hop.name
        print(f"{name:<40} {hop.route:<13} {hop.lane:<22} {queued:>8} {ran:>8}")
    parents: dict[str, Any] = {
        hop.name: hop.parent.name if hop.parent else None for hop in collector.hops
    }
    assert parents["article_view"] is None
    assert parents["cached_page"] == "article_view"
    assert parents["orm_query"] == "cached_page"


if __name__ == "__main__":
    main()
