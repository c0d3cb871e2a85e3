"""Mistakes the types of sync_to_async and async_to_sync must catch: each marked line is an error.

Checked by mypy --strict and pyright strict, never executed. Each expected error is
silenced by a comment, and both checkers fail when a comment stops being needed (mypy:
warn_unused_ignores; pyright: reportUnnecessaryTypeIgnoreComment), so a case that the
types stop catching fails the check. ``# type: ignore[code]`` names mypy's error code;
pyright takes it as a blanket suppression, so on those lines it checks that it reports
*an* error (see asgiref-types' check_errors.py).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async

AsyncStr = Coroutine[Any, Any, str]


@sync_to_async
def fetch(key: int, /) -> str:
    return str(key)


@sync_to_async(thread_sensitive=False)
def fetch_unpinned(key: int, *, fresh: bool = False) -> str:
    return str(key) * fresh


@async_to_sync
async def load(key: int, /) -> str:
    return str(key)


@async_to_sync(force_new_loop=True)
async def load_on_new_loop(key: int, *, fresh: bool = False) -> str:
    return str(key) * fresh


class Repository:
    @sync_to_async
    def fetch(self, key: int, /) -> str:
        return str(key)

    @sync_to_async(thread_sensitive=False)
    def fetch_unpinned(self, key: int, *, fresh: bool = False) -> str:
        return str(key) * fresh

    @classmethod
    @sync_to_async
    def fetch_for_class(cls, key: int, /) -> str:
        return cls.__name__ + str(key)

    @staticmethod
    @sync_to_async
    def fetch_static(key: int, *, fresh: bool = False) -> str:
        return str(key) * fresh

    @async_to_sync
    async def load(self, key: int, /) -> str:
        return str(key)

    @async_to_sync(force_new_loop=True)
    async def load_on_new_loop(self, key: int, *, fresh: bool = False) -> str:
        return str(key) * fresh

    @classmethod
    @async_to_sync
    async def load_for_class(cls, key: int, /) -> str:
        return cls.__name__ + str(key)

    @staticmethod
    @async_to_sync
    async def load_static(key: int, *, fresh: bool = False) -> str:
        return str(key) * fresh


async def wrong_calls_of_sync_to_async(repo: Repository) -> None:
    await fetch("1")  # type: ignore[arg-type]
    await fetch(key=1)  # type: ignore[call-arg]
    await fetch_unpinned(1, True)  # type: ignore[call-arg]
    await fetch_unpinned(1, stale=True)  # type: ignore[call-arg]
    await repo.fetch("1")  # type: ignore[arg-type]
    await repo.fetch(repo, 1)  # type: ignore[arg-type, call-arg]
    await repo.fetch(key=1)  # type: ignore[call-arg]
    await repo.fetch_unpinned(1, True)  # type: ignore[call-arg]
    await repo.fetch_for_class(Repository, 1)  # type: ignore[arg-type, call-arg]
    await Repository.fetch_for_class("1")  # type: ignore[arg-type]
    await repo.fetch_static("1")  # type: ignore[arg-type]
    await Repository.fetch_static(1, True)  # type: ignore[call-arg]


def wrong_calls_of_async_to_sync(repo: Repository) -> None:
    load("1")  # type: ignore[arg-type]
    load(key=1)  # type: ignore[call-arg]
    load_on_new_loop(1, True)  # type: ignore[call-arg]
    repo.load("1")  # type: ignore[arg-type]
    repo.load(repo, 1)  # type: ignore[arg-type, call-arg]
    repo.load_on_new_loop(1, True)  # type: ignore[call-arg]
    repo.load_for_class(Repository, 1)  # type: ignore[arg-type, call-arg]
    Repository.load_for_class("1")  # type: ignore[arg-type]
    repo.load_static("1")  # type: ignore[arg-type]
    Repository.load_static(1, True)  # type: ignore[call-arg]


async def wrong_results(repo: Repository) -> None:
    number: int = await fetch(1)  # type: ignore[assignment]
    from_method: int = await repo.fetch(1)  # type: ignore[assignment]
    from_sync: int = repo.load(1)  # type: ignore[assignment]
    not_awaited: str = repo.fetch(1)  # type: ignore[assignment]
    del number, from_method, from_sync, not_awaited


def bound_methods_take_no_instance(repo: Repository) -> None:
    with_self: Callable[[Repository, int], AsyncStr] = repo.fetch  # type: ignore[assignment]
    sync_with_self: Callable[[Repository, int], str] = repo.load  # type: ignore[assignment]
    del with_self, sync_with_self


def wrong_wrapped_callables() -> None:
    # async_to_sync needs a callable returning an awaitable.
    async_to_sync(str.upper)  # type: ignore[arg-type]
    sync_to_async(1)  # type: ignore[call-overload]


def for_class(cls: type[Repository]) -> str:
    return cls.__name__


def wrong_decorator_order() -> None:
    # A classmethod object is not callable (TypeError at runtime): apply classmethod last.
    # Written as a call: the checkers accept the @-decorator form of the same mistake.
    sync_to_async(classmethod(for_class))  # type: ignore[call-overload]
    async_to_sync(classmethod(for_class))  # type: ignore[call-overload]
