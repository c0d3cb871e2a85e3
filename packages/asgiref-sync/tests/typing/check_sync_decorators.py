"""Static checks: sync_to_async and async_to_sync keep the wrapped signature.

Checked by mypy --strict and pyright strict, never executed. Every decorator form:
bare and with arguments, on functions, instance methods, classmethods and
staticmethods (``@classmethod``/``@staticmethod`` outermost: the other order fails
at runtime). ``check_sync_decorator_errors.py`` holds the calls that must fail.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from asgiref.sync import AsyncToSync, SyncToAsync, async_to_sync, sync_to_async
from typing_extensions import assert_type

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


class SpecialRepository(Repository):
    pass


class ChannelsStyleSyncToAsync(SyncToAsync[..., Any]):
    """A subclass used as a decorator, as Channels' database_sync_to_async is."""


class Consumer:
    @ChannelsStyleSyncToAsync
    def get_user(self, user_id: int) -> str:
        return str(user_id)


async def functions() -> None:
    assert_type(await fetch(1), str)
    assert_type(await fetch_unpinned(1), str)
    assert_type(await fetch_unpinned(1, fresh=True), str)
    assert_type(fetch.func, Callable[[int], str])
    assert_type(load.awaitable, Callable[[int], Awaitable[str]])


def functions_from_sync_code() -> None:
    assert_type(load(1), str)
    assert_type(load_on_new_loop(1), str)
    assert_type(load_on_new_loop(1, fresh=True), str)


def double(value: int, /) -> int:
    return 2 * value


async def double_later(value: int, /) -> int:
    return 2 * value


def wrapper_classes() -> None:
    assert_type(sync_to_async(double), SyncToAsync[[int], int])
    assert_type(async_to_sync(double_later), AsyncToSync[[int], int])
    as_async: Callable[[int], Coroutine[Any, Any, int]] = sync_to_async(double)
    as_sync: Callable[[int], int] = async_to_sync(double_later)
    del as_async, as_sync


async def methods(repo: Repository, special: SpecialRepository) -> None:
    # The instance is bound like a method's self: the rest of the signature remains.
    assert_type(repo.fetch, Callable[[int], AsyncStr])
    assert_type(special.fetch, Callable[[int], AsyncStr])
    assert_type(await repo.fetch(1), str)
    assert_type(await repo.fetch_unpinned(1, fresh=True), str)
    assert_type(await repo.fetch_for_class(1), str)
    assert_type(Repository.fetch_for_class, Callable[[int], AsyncStr])
    assert_type(SpecialRepository.fetch_for_class, Callable[[int], AsyncStr])
    assert_type(await repo.fetch_static(1, fresh=True), str)
    assert_type(await Repository.fetch_static(1), str)
    assert_type(await Consumer().get_user(1), Any)


def methods_from_sync_code(repo: Repository) -> None:
    assert_type(repo.load, Callable[[int], str])
    assert_type(repo.load(1), str)
    assert_type(repo.load_on_new_loop(1, fresh=True), str)
    assert_type(repo.load_for_class(1), str)
    assert_type(Repository.load_for_class, Callable[[int], str])
    assert_type(repo.load_static(1, fresh=True), str)
    assert_type(Repository.load_static(1), str)


def class_access_is_unchecked() -> None:
    # Through the class, a method's wrapper binds None as the instance: the runtime
    # signature is not the method's, so the checkers accept any call.
    assert_type(Repository.fetch, Callable[..., AsyncStr])
    assert_type(Repository.load, Callable[..., str])
