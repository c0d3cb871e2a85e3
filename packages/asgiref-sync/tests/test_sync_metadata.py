"""What sync_to_async and async_to_sync wrappers carry over from the wrapped callable.

Both wrappers take the name, qualified name, docs, module and ``__wrapped__`` of
what they wrap (the published asgiref 3.13.0 does so for sync_to_async only),
without that changing the wrapper's own attributes or whether it reports as a
coroutine function. Binding through ``__get__`` is checked as Django and Channels
use it: a ``functools.partial`` of the wrapper's ``__call__`` with the instance.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import sys
from typing import Any

import pytest
from asgiref.sync import AsyncToSync, SyncToAsync, async_to_sync, sync_to_async

# inspect.iscoroutinefunction sees markcoroutinefunction's marker from 3.12 on.
INSPECT_SEES_MARKERS = sys.version_info >= (3, 12)


def fetch(key: int, /) -> str:
    """Fetch one key."""
    return str(key)


async def load(key: int, /) -> str:
    """Load one key."""
    return str(key)


class Repository:
    def __init__(self) -> None:
        self.prefix = "r"

    @sync_to_async
    def fetch(self, key: int) -> str:
        """Fetch through the repository."""
        return self.prefix + str(key)

    @async_to_sync
    async def load(self, key: int) -> str:
        """Load through the repository."""
        return self.prefix + str(key)

    @classmethod
    @sync_to_async
    def fetch_for_class(cls, key: int) -> str:
        return cls.__name__ + str(key)

    @staticmethod
    @sync_to_async
    def fetch_static(key: int) -> str:
        return str(key)

    @classmethod
    @async_to_sync
    async def load_for_class(cls, key: int) -> str:
        return cls.__name__ + str(key)

    @staticmethod
    @async_to_sync
    async def load_static(key: int) -> str:
        return str(key)


class SpecialRepository(Repository):
    pass


def metadata(wrapper: object) -> dict[str, Any]:
    names = ("__name__", "__qualname__", "__doc__", "__module__", "__wrapped__")
    return {name: getattr(wrapper, name, "<missing>") for name in names}


def expected_metadata(wrapped: Any) -> dict[str, Any]:
    return {
        "__name__": wrapped.__name__,
        "__qualname__": wrapped.__qualname__,
        "__doc__": wrapped.__doc__,
        "__module__": wrapped.__module__,
        "__wrapped__": wrapped,
    }


def test_sync_to_async_carries_the_function_metadata() -> None:
    assert metadata(sync_to_async(fetch)) == expected_metadata(fetch)
    assert metadata(sync_to_async(thread_sensitive=False)(fetch)) == expected_metadata(fetch)


@pytest.mark.ours_only("sync-async-to-sync-metadata")
def test_async_to_sync_carries_the_function_metadata() -> None:
    assert metadata(async_to_sync(load)) == expected_metadata(load)
    assert metadata(async_to_sync(force_new_loop=True)(load)) == expected_metadata(load)
    assert metadata(AsyncToSync(load)) == expected_metadata(load)


@pytest.mark.ours_only("sync-async-to-sync-metadata")
def test_async_to_sync_of_a_bound_method_carries_its_metadata() -> None:
    class Service:
        async def run(self) -> int:
            """Run the service."""
            return 1

    service = Service()
    wrapper = async_to_sync(service.run)
    assert metadata(wrapper) == {**expected_metadata(service.run), "__wrapped__": service.run}
    assert getattr(wrapper, "__self__", None) is service
    assert wrapper() == 1


@pytest.mark.ours_only("sync-async-to-sync-metadata")
def test_async_to_sync_signature_is_the_wrapped_one() -> None:
    assert inspect.signature(async_to_sync(load)) == inspect.signature(load)
    assert inspect.signature(sync_to_async(fetch)) == inspect.signature(fetch)


def test_async_to_sync_keeps_its_own_attributes() -> None:
    async def clashing(key: int) -> str:
        return str(key)

    # What functools.update_wrapper would merge from the wrapped __dict__ by default.
    clashing.awaitable = "clobbered"  # type: ignore[attr-defined]
    clashing.force_new_loop = "clobbered"  # type: ignore[attr-defined]
    clashing.main_wrap = "clobbered"  # type: ignore[attr-defined]
    clashing.custom = "kept on the function only"  # type: ignore[attr-defined]
    wrapper = async_to_sync(clashing, force_new_loop=True)
    assert wrapper.awaitable is clashing
    assert wrapper.force_new_loop is True
    assert callable(wrapper.main_wrap)
    assert not hasattr(wrapper, "custom")
    assert not hasattr(async_to_sync(clashing), "__self__")
    assert wrapper(3) == "3"


def test_sync_to_async_keeps_its_own_attributes() -> None:
    def clashing(key: int) -> str:
        return str(key)

    clashing.func = "clobbered"  # type: ignore[attr-defined]
    clashing.context = "clobbered"  # type: ignore[attr-defined]
    clashing._thread_sensitive = True  # type: ignore[attr-defined]
    clashing._executor = "clobbered"  # type: ignore[attr-defined]
    wrapper = SyncToAsync(clashing, thread_sensitive=False)
    assert wrapper.func is clashing
    assert wrapper.context is None
    assert wrapper._thread_sensitive is False  # pyright: ignore[reportPrivateUsage]
    assert wrapper._executor is None  # pyright: ignore[reportPrivateUsage]
    assert asyncio.run(wrapper(4)) == "4"


def test_a_marked_awaitable_does_not_make_async_to_sync_a_coroutine_function() -> None:
    # Every SyncToAsync carries a coroutine marker in its __dict__.
    wrapper = async_to_sync(sync_to_async(fetch))
    assert not inspect.iscoroutinefunction(wrapper)
    if sys.version_info < (3, 14):  # deprecated in 3.14 (a DeprecationWarning, an error here)
        assert not asyncio.iscoroutinefunction(wrapper)  # what Django < 5 calls
    assert wrapper(5) == "5"


def test_coroutine_function_reports_are_unchanged() -> None:
    to_async = sync_to_async(fetch)
    assert inspect.iscoroutinefunction(to_async) is INSPECT_SEES_MARKERS
    to_sync = async_to_sync(load)
    assert not inspect.iscoroutinefunction(to_sync)
    repo = Repository()
    assert inspect.iscoroutinefunction(repo.fetch)  # a partial of an async def method
    assert not inspect.iscoroutinefunction(repo.load)
    if sys.version_info < (3, 14):  # deprecated in 3.14 (a DeprecationWarning, an error here)
        # What Django < 5 calls.
        assert asyncio.iscoroutinefunction(to_async)
        assert not asyncio.iscoroutinefunction(to_sync)
        assert not asyncio.iscoroutinefunction(repo.load)


@pytest.mark.parametrize(("name", "wrapped_attribute"), [("fetch", "func"), ("load", "awaitable")])
def test_binding_is_a_partial_of_the_wrappers_call(name: str, wrapped_attribute: str) -> None:
    repo = Repository()
    wrapper = vars(Repository)[name]
    wrapped = getattr(wrapper, wrapped_attribute)
    bound: Any = getattr(repo, name)
    assert metadata(bound) == expected_metadata(wrapped)
    assert type(bound) is functools.partial
    assert bound.func == wrapper.__call__
    assert bound.args == (repo,)
    assert bound.keywords == {}
    # Through the class, the instance bound is None (not the wrapper itself).
    through_class: Any = getattr(Repository, name)
    assert type(through_class) is functools.partial
    assert through_class.args == (None,)


@pytest.mark.anyio
async def test_methods_classmethods_and_staticmethods_run_through_sync_to_async() -> None:
    repo = SpecialRepository()
    assert await repo.fetch(1) == "r1"
    assert await repo.fetch_for_class(2) == "SpecialRepository2"
    assert await SpecialRepository.fetch_for_class(3) == "SpecialRepository3"
    assert await repo.fetch_static(4) == "4"
    assert await Repository.fetch_static(5) == "5"


def test_methods_classmethods_and_staticmethods_run_through_async_to_sync() -> None:
    repo = SpecialRepository()
    assert repo.load(1) == "r1"
    assert repo.load_for_class(2) == "SpecialRepository2"
    assert SpecialRepository.load_for_class(3) == "SpecialRepository3"
    assert repo.load_static(4) == "4"
    assert Repository.load_static(5) == "5"


def test_wrapping_a_classmethod_object_fails_at_definition() -> None:
    # The working order is @classmethod outermost.
    def fetch(cls: type[Repository]) -> str:
        return cls.__name__

    with pytest.raises(TypeError, match="sync_to_async can only be applied to sync functions"):
        sync_to_async(classmethod(fetch))  # type: ignore[call-overload]
