"""asgiref.local.Local: values that follow the sync/async bridge and nothing else.

Run: python demos/20_local.py
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from asgiref.local import Local
from asgiref.sync import async_to_sync, sync_to_async

request = Local()  # like Django's active translation / time zone / urlconf
connections = Local(thread_critical=True)  # like Django's database connections


def where() -> str:
    return threading.current_thread().name


def show(step: str, local: Local, name: str) -> None:
    value = getattr(local, name, "<not set>")
    print(f"  {step:<44} [{where():<24}] {name} = {value!r}")


# --------------------------------------------------------------------------- hops


def view_sync_part() -> None:
    show("sync_to_async worker sees the caller's value", request, "language")
    request.language = "fr"
    show("...and changes it", request, "language")

    async def deeper() -> None:
        show("async_to_sync back on the loop: still there", request, "language")
        request.seen_on_loop = True

    async_to_sync(deeper)()


async def view() -> None:
    request.language = "de"
    show("async view sets a value", request, "language")
    await sync_to_async(view_sync_part)()
    show("back in the view: the worker's change", request, "language")
    show("and what the nested coroutine wrote", request, "seen_on_loop")
    await asyncio.to_thread(show, "asyncio.to_thread worker sees nothing", request, "language")


def follow_hops() -> None:
    print("1. A default-mode Local follows sync_to_async / async_to_sync hops")
    asyncio.run(view())


# --------------------------------------------------------------------------- isolation


async def handle(user: str, ready: asyncio.Event, go: asyncio.Event) -> str:
    request.user = user
    ready.set()
    await go.wait()  # every other request has set its own value by now
    return await sync_to_async(read_user, thread_sensitive=False)()


def read_user() -> str:
    return str(request.user)


async def concurrent_requests() -> None:
    users = ["ada", "grace", "alan", "edsger"]
    readies = [asyncio.Event() for _ in users]
    go = asyncio.Event()
    tasks = [asyncio.create_task(handle(u, r, go)) for u, r in zip(users, readies, strict=True)]
    for ready in readies:
        await ready.wait()
    go.set()
    seen = await asyncio.gather(*tasks)
    for user, got in zip(users, seen, strict=True):
        print(f"  task that set user={user!r:<9} read back {got!r} after its hop")
    print(f"  the parent task itself: user = {getattr(request, 'user', '<not set>')!r}")


def isolation() -> None:
    print("\n2. Concurrent tasks writing the same attribute stay apart")
    asyncio.run(concurrent_requests())
    print("\n3. Threads start empty, even while a value is set in their creator")
    request.user = "main thread's user"
    thread = threading.Thread(
        target=show, args=("a new thread", request, "user"), name="plain-thread"
    )
    thread.start()
    thread.join()
    show("the creator still has its own", request, "user")


# --------------------------------------------------------------------------- thread-critical


def connect() -> str:
    if not hasattr(connections, "default"):
        connections.default = f"connection made in {where()}"
    return str(connections.default)


async def critical() -> None:
    first = await sync_to_async(connect)()
    second = await sync_to_async(connect)()
    print(f"  thread-sensitive call 1: {first}")
    print(f"  thread-sensitive call 2: {second}  (same worker, same connection)")
    other = await sync_to_async(connect, thread_sensitive=False)()
    print(f"  thread-pool call:        {other}")
    show("the event loop's own task sees none of them", connections, "default")


def thread_critical() -> None:
    print("\n4. A thread-critical Local never leaves its thread")
    asyncio.run(critical())
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="wsgi-worker") as pool:
        print(f"  a WSGI-style worker:     {pool.submit(connect).result()}")
        print(f"  ...asked again:          {pool.submit(connect).result()}")


if __name__ == "__main__":
    follow_hops()
    isolation()
    thread_critical()
