"""asgiref.sync construction, decorator forms, metadata, binding and coroutine markers."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import asgiref.sync
import pytest
from asgiref.sync import (
    AsyncToSync,
    SyncToAsync,
    async_to_sync,
    iscoroutinefunction,
    markcoroutinefunction,
    sync_to_async,
)

SYNC_ONLY = r"^sync_to_async can only be applied to sync functions\.$"


def plain(x: int, y: int = 0) -> int:
    """Adds."""
    return x + y


async def coro_fn(x: int) -> int:
    """Async docs."""
    return x * 2


class AsyncCallable:
    async def __call__(self) -> int:
        return 1


def test_public_names_import() -> None:
    for name in (
        "sync_to_async",
        "async_to_sync",
        "SyncToAsync",
        "AsyncToSync",
        "ThreadSensitiveContext",
        "AsyncSingleThreadContext",
        "iscoroutinefunction",
        "markcoroutinefunction",
        "CurrentThreadExecutor",
        "Local",
    ):
        assert hasattr(asgiref.sync, name), name
    assert SyncToAsync.__module__ == "asgiref.sync"
    assert AsyncToSync.__module__ == "asgiref.sync"


@pytest.mark.parametrize(
    "bad",
    [
        coro_fn,
        functools.partial(coro_fn, 1),
        AsyncCallable(),
        1,
        "not callable",
    ],
    ids=["async-def", "partial-of-async", "async-callable-instance", "int", "str"],
)
def test_sync_to_async_rejects_async_and_non_callables(bad: Any) -> None:
    with pytest.raises(TypeError, match=SYNC_ONLY):
        sync_to_async(bad)
    with pytest.raises(TypeError, match=SYNC_ONLY):
        SyncToAsync(bad)


def test_executor_with_thread_sensitive_is_rejected() -> None:
    with ThreadPoolExecutor(1) as executor:
        with pytest.raises(
            TypeError, match=r"^executor must not be set when thread_sensitive is True$"
        ):
            sync_to_async(plain, executor=executor)
        with pytest.raises(TypeError, match=r"^executor must not be set"):
            SyncToAsync(plain, True, executor)
        # The coroutine check wins over the executor check.
        with pytest.raises(TypeError, match=SYNC_ONLY):
            sync_to_async(coro_fn, executor=executor)
        assert isinstance(
            sync_to_async(plain, thread_sensitive=False, executor=executor), SyncToAsync
        )


def test_factory_forms_return_class_instances() -> None:
    assert isinstance(sync_to_async(plain), SyncToAsync)
    assert isinstance(sync_to_async()(plain), SyncToAsync)
    assert isinstance(sync_to_async(thread_sensitive=False)(plain), SyncToAsync)
    assert isinstance(async_to_sync(coro_fn), AsyncToSync)
    assert isinstance(async_to_sync()(coro_fn), AsyncToSync)
    assert isinstance(async_to_sync(force_new_loop=True)(coro_fn), AsyncToSync)
    assert async_to_sync(coro_fn, force_new_loop=True).force_new_loop is True

    @SyncToAsync
    def decorated() -> int:
        return 5

    assert isinstance(decorated, SyncToAsync)
    assert asyncio.run(decorated()) == 5


def test_keyword_only_options_on_functions() -> None:
    with pytest.raises(TypeError):
        sync_to_async(plain, False)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        async_to_sync(coro_fn, True)  # type: ignore[call-overload]
    # ...but positional on the classes.
    assert SyncToAsync(plain, False)._thread_sensitive is False  # pyright: ignore[reportPrivateUsage]
    assert AsyncToSync(coro_fn, True).force_new_loop is True


def test_sync_to_async_copies_metadata() -> None:
    def func() -> None:
        """Docs here."""

    func.custom = "yes"  # type: ignore[attr-defined]
    wrapper: Any = sync_to_async(func)
    assert wrapper.__name__ == "func"
    assert wrapper.__qualname__ == func.__qualname__
    assert wrapper.__doc__ == "Docs here."
    assert wrapper.__module__ == __name__
    assert wrapper.__wrapped__ is func
    assert wrapper.custom == "yes"
    assert wrapper.func is func
    assert wrapper.context is None


def test_wrapped_context_and_func_attributes_do_not_win() -> None:
    def func() -> None:
        pass

    func.context = "clobber"  # type: ignore[attr-defined]
    func.func = "clobber"  # type: ignore[attr-defined]
    wrapper = sync_to_async(func)
    assert wrapper.context is None
    assert wrapper.func is func
    ctx = contextvars.Context()
    assert sync_to_async(func, context=ctx).context is ctx


def test_bound_methods_carry_self() -> None:
    class Thing:
        def sync_method(self) -> int:
            return 1

        async def async_method(self) -> int:
            return 2

    thing = Thing()
    assert getattr(sync_to_async(thing.sync_method), "__self__", None) is thing
    assert getattr(async_to_sync(thing.async_method), "__self__", None) is thing
    assert not hasattr(sync_to_async(plain), "__self__")
    assert async_to_sync(thing.async_method)() == 2


def test_coroutine_function_reports() -> None:
    wrapper = sync_to_async(plain)
    assert iscoroutinefunction(wrapper)
    if sys.version_info < (3, 14):  # deprecated in 3.14 (a DeprecationWarning, an error here)
        assert asyncio.iscoroutinefunction(wrapper)  # what Django < 5 calls
    # inspect learned about markers in 3.12.
    assert inspect.iscoroutinefunction(wrapper) is (sys.version_info >= (3, 12))
    assert not iscoroutinefunction(sync_to_async)
    assert not iscoroutinefunction(async_to_sync(coro_fn))


def test_iscoroutinefunction_is_the_running_pythons() -> None:
    if sys.version_info >= (3, 12):
        assert iscoroutinefunction is inspect.iscoroutinefunction
        assert markcoroutinefunction is inspect.markcoroutinefunction  # type: ignore[comparison-overlap]
    else:
        assert iscoroutinefunction is asyncio.iscoroutinefunction

    def func() -> None:
        pass

    assert markcoroutinefunction(func) is func
    assert iscoroutinefunction(func)
    assert iscoroutinefunction(functools.partial(coro_fn, 1))
    assert not iscoroutinefunction(plain)


def test_async_to_sync_warns_for_unmarked_callables() -> None:
    def returns_awaitable() -> Any:
        return coro_fn(1)

    with pytest.warns(UserWarning, match=r"^async_to_sync was passed a non-async-marked callable$"):
        wrapper = AsyncToSync(returns_awaitable)
    assert wrapper() == 2
    with pytest.warns(UserWarning, match="non-async-marked"):
        AsyncToSync(1)  # type: ignore[arg-type]


@pytest.mark.filterwarnings("error")
def test_async_to_sync_does_not_warn_for_async_callables() -> None:
    class Thing:
        async def method(self) -> None:
            pass

    async_to_sync(coro_fn)
    async_to_sync(Thing().method)
    async_to_sync(functools.partial(coro_fn, 1))
    async_to_sync(AsyncCallable())


def test_bad_awaitables_fail_at_call_time_in_the_caller() -> None:
    with pytest.warns(UserWarning, match="non-async-marked"):
        not_callable: Any = AsyncToSync(1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"'int' object is not callable"):
        not_callable()
    with pytest.warns(UserWarning, match="non-async-marked"):
        returns_int: Any = AsyncToSync(lambda: 1)  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError, match=r"can't be used in 'await' expression"):
        returns_int()


def test_method_binding_and_class_access() -> None:
    class Thing:
        def __init__(self) -> None:
            self.value = 3

        @sync_to_async
        def sync_method(self) -> int:
            """Sync doc."""
            return self.value

        @async_to_sync
        async def async_method(self) -> int:
            """Async doc."""
            return self.value * 2

    thing = Thing()
    bound: Any = thing.sync_method
    assert isinstance(thing.sync_method, functools.partial)
    assert getattr(bound, "__name__", None) == "sync_method"
    assert getattr(bound, "__doc__", None) == "Sync doc."
    assert inspect.iscoroutinefunction(bound)
    assert asyncio.run(bound()) == 3
    assert thing.async_method() == 6
    assert getattr(thing.async_method, "__name__", None) == "async_method"
    # Class access binds None instead of returning the descriptor.
    class_bound = Thing.__dict__["sync_method"].__get__(None, Thing)
    assert isinstance(class_bound, functools.partial)
    assert class_bound.args == (None,)


def test_argument_names_do_not_collide_with_internals() -> None:
    def echo(**kwargs: Any) -> dict[str, Any]:
        return kwargs

    async def aecho(**kwargs: Any) -> dict[str, Any]:
        return kwargs

    names = {"task_context": 1, "context": 2, "loop": 3, "exc_info": 4, "func": 5}
    assert asyncio.run(sync_to_async(echo)(**names)) == names
    assert async_to_sync(aecho)(**names) == names


def test_partial_wrapping_and_coroutine_return_values() -> None:
    wrapper = sync_to_async(functools.partial(plain, 1))
    assert asyncio.run(wrapper(y=5)) == 6

    def returns_coroutine() -> Any:
        return coro_fn(2)

    async def main() -> Any:
        returned = await sync_to_async(returns_coroutine)()
        # Returned as-is, not awaited.
        assert inspect.iscoroutine(returned)
        return await returned

    assert asyncio.run(main()) == 4


def test_async_to_sync_refuses_a_running_loop() -> None:
    async def main() -> None:
        coroutine_calls: list[int] = []

        async def never() -> None:
            coroutine_calls.append(1)

        with pytest.raises(
            RuntimeError,
            match=r"^You cannot use AsyncToSync in the same thread as an async event loop - "
            r"just await the async function directly\.$",
        ):
            async_to_sync(never)()
        assert coroutine_calls == []

    asyncio.run(main())


def test_set_but_not_running_loop_is_fine() -> None:
    loop = asyncio.new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        assert async_to_sync(coro_fn)(4) == 8
    finally:
        asyncio.set_event_loop(None)
        loop.close()
