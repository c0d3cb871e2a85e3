"""The sync/async bridge at work: which thread runs what, and context flowing back.

Thread names you will see:
  MainThread              the sync caller (or the loop, under asyncio.run)
  asgiref-sync-worker_0   the process-wide thread for thread-sensitive calls
  asgiref-tsc-lane-N      a ThreadSensitiveContext's dedicated thread (reused across contexts)
  asgiref-loop-N          a pooled thread owning the event loop of an async_to_sync call
  asyncio_N               the loop's default executor (thread_sensitive=False)
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

from asgiref.sync import ThreadSensitiveContext, async_to_sync, sync_to_async

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def here() -> str:
    return threading.current_thread().name


def show(label: str, where: str) -> None:
    print(f"  {label:58s} -> {where}")


def database_query(table: str) -> str:
    # A view's ORM call: sets a context variable that the async caller will see.
    request_id.set(f"{request_id.get()}+{table}")
    return here()


def sync_view() -> str:
    async def fetch_from_cache() -> str:
        show("  async cache lookup inside the sync view runs on", here())
        return await sync_to_async(database_query)("cache_misses")

    show("sync view runs on", here())
    return async_to_sync(fetch_from_cache)()


async def handle_request(number: int) -> None:
    request_id.set(f"req{number}")
    async with ThreadSensitiveContext():
        orm_thread = await sync_to_async(database_query)("users")
        show(f"req{number}: thread-sensitive ORM call", orm_thread)
        view_thread = await sync_to_async(sync_view)()
        show(f"req{number}: view calling back into async, TS call", view_thread)
    show(f"req{number}: context variable after the hops", request_id.get())


async def async_server() -> None:
    print("An async server (asyncio.run, loop on MainThread):")
    show("thread-sensitive call outside any context", await sync_to_async(here)())
    show("thread_sensitive=False call", await sync_to_async(here, thread_sensitive=False)())
    for number in (1, 2):
        await handle_request(number)
    print("  two concurrent requests get different lanes:")
    barrier = threading.Barrier(2, timeout=5)

    def meet() -> str:
        barrier.wait()
        return here()

    async def concurrent() -> str:
        async with ThreadSensitiveContext():
            return await sync_to_async(meet)()

    lanes = await asyncio.gather(concurrent(), concurrent())
    show("lanes of two concurrent contexts", ", ".join(lanes))


def sync_program() -> None:
    print("A sync program calling async code (no running loop):")

    async def coroutine() -> str:
        request_id.set("set by the coroutine")
        show("coroutine runs on", here())
        return await sync_to_async(here)()

    show("thread-sensitive call inside it runs on", async_to_sync(coroutine)())
    show("context variable back in the sync caller", request_id.get())
    start = time.perf_counter()
    for _ in range(1000):
        async_to_sync(asyncio.sleep)(0)
    per_call = (time.perf_counter() - start) / 1000 * 1e6
    loops = sorted({t.name for t in threading.enumerate() if t.name.startswith("asgiref-loop")})
    show("1000 more async_to_sync calls; loop threads alive", f"{loops} ({per_call:.0f} us/call)")


if __name__ == "__main__":
    asyncio.run(async_server())
    print()
    sync_program()
