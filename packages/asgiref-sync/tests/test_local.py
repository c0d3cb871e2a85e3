"""asgiref.local.Local without the sync bridge: construction, attribute protocol, isolation."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import sys
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import pytest
from asgiref.local import (
    Local,
    _DefaultLocal,
    _ThreadCriticalLocal,
)

_T = TypeVar("_T")

MISSING: Any = object()


def read(local: Local, name: str) -> Any:
    return getattr(local, name, MISSING)


def in_new_thread(func: Callable[[], _T]) -> _T:
    """Run ``func`` in a fresh thread (which starts with an empty context) and return its result."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-local") as pool:
        return pool.submit(func).result(timeout=30)


def both_modes() -> pytest.MarkDecorator:
    return pytest.mark.parametrize("thread_critical", [False, True], ids=["default", "critical"])


# --------------------------------------------------------------------------- construction


def test_default_mode_type() -> None:
    local = Local()
    assert type(local) is _DefaultLocal
    assert type(Local(False)) is _DefaultLocal
    assert type(Local(thread_critical=False)) is _DefaultLocal
    assert isinstance(local, Local)
    assert type(local) is not Local


def test_thread_critical_type_positional_and_keyword() -> None:
    assert type(Local(True)) is _ThreadCriticalLocal
    assert type(Local(thread_critical=True)) is _ThreadCriticalLocal
    assert isinstance(Local(True), Local)
    assert type(Local(True)) is not type(Local(False))


def test_public_names_point_at_asgiref_local() -> None:
    for cls in (Local, _DefaultLocal, _ThreadCriticalLocal):
        assert cls.__module__ == "asgiref.local"
    assert repr(Local()).startswith("<asgiref.local._DefaultLocal object at 0x")


def test_user_subclass_fails_at_instantiation() -> None:
    class Mine(Local):  # type: ignore[misc]  # the class statement itself is allowed at runtime
        pass

    for args in ((), (True,), (False,)):
        with pytest.raises(TypeError) as info:
            Mine(*args)
        assert str(info.value) == "asgiref.local.Local cannot be subclassed"


@pytest.mark.parametrize("cls", [_DefaultLocal, _ThreadCriticalLocal])
def test_concrete_classes_are_not_instantiated_directly(cls: type[Local]) -> None:
    with pytest.raises(TypeError, match=r"^asgiref\.local\.Local cannot be subclassed$"):
        cls()


def test_unknown_constructor_argument() -> None:
    with pytest.raises(TypeError):
        Local(thread_critical=True, extra=1)  # type: ignore[call-arg]


@both_modes()
def test_weak_references(thread_critical: bool) -> None:
    local = Local(thread_critical)
    ref = weakref.ref(local)
    assert ref() is local
    del local
    assert ref() is None


# --------------------------------------------------------------------------- attribute protocol


def missing_message(local: Local, name: str, *, sync_critical: bool) -> str:
    if sync_critical:
        return f"'_thread._local' object has no attribute '{name}'"
    return f"{object.__repr__(local)} object has no attribute '{name}'"


def run_with_loop(func: Callable[[], _T]) -> _T:
    """Call ``func`` synchronously while an event loop is running in this thread."""

    async def main() -> _T:
        return func()

    return asyncio.run(main())


def run_maybe_in_loop(inside_loop: bool, func: Callable[[], _T]) -> _T:
    return run_with_loop(func) if inside_loop else func()


MODES_AND_PLACES = pytest.mark.parametrize(
    ("thread_critical", "inside_loop"),
    [(False, False), (False, True), (True, False), (True, True)],
    ids=["default-sync", "default-async", "critical-sync", "critical-async"],
)


@MODES_AND_PLACES
def test_set_get_delete(thread_critical: bool, inside_loop: bool) -> None:
    local = Local(thread_critical)
    value = object()

    def scenario() -> None:
        assert not hasattr(local, "value")
        local.value = value
        assert local.value is value
        assert hasattr(local, "value")
        local.value = 2
        assert local.value == 2
        del local.value
        assert not hasattr(local, "value")
        assert getattr(local, "value", "default") == "default"

    run_maybe_in_loop(inside_loop, scenario)


# Our message names the Local's own class where the published one names its internal _CVar.
_OURS_MESSAGE = pytest.mark.ours_only("local-internals")
MODES_AND_PLACES_OF_MESSAGES = pytest.mark.parametrize(
    ("thread_critical", "inside_loop"),
    [
        pytest.param(False, False, id="default-sync", marks=_OURS_MESSAGE),
        pytest.param(False, True, id="default-async", marks=_OURS_MESSAGE),
        pytest.param(True, False, id="critical-sync"),
        pytest.param(True, True, id="critical-async", marks=_OURS_MESSAGE),
    ],
)


@MODES_AND_PLACES_OF_MESSAGES
def test_missing_attribute_error(thread_critical: bool, inside_loop: bool) -> None:
    local = Local(thread_critical)
    sync_critical = thread_critical and not inside_loop

    def scenario() -> None:
        with pytest.raises(AttributeError) as info:
            _ = local.nope
        assert str(info.value) == missing_message(local, "nope", sync_critical=sync_critical)
        assert info.value.name == "nope"
        local.other = 1
        with pytest.raises(AttributeError) as info:
            _ = local.nope
        assert str(info.value).endswith("object has no attribute 'nope'")

    run_maybe_in_loop(inside_loop, scenario)


@MODES_AND_PLACES_OF_MESSAGES
def test_delete_missing_attribute(thread_critical: bool, inside_loop: bool) -> None:
    local = Local(thread_critical)
    sync_critical = thread_critical and not inside_loop

    def scenario() -> None:
        with pytest.raises(AttributeError) as info:
            del local.nope
        assert str(info.value) == missing_message(local, "nope", sync_critical=sync_critical)
        local.once = 1
        del local.once
        with pytest.raises(AttributeError) as info:
            del local.once
        assert str(info.value) == missing_message(local, "once", sync_critical=sync_critical)

    run_maybe_in_loop(inside_loop, scenario)


def python_error(operation: Callable[[], object]) -> str:
    """The message Python itself gives for a bad attribute name (it varies by version)."""
    with pytest.raises(TypeError) as info:
        operation()
    return str(info.value)


@MODES_AND_PLACES
def test_non_string_attribute_names(thread_critical: bool, inside_loop: bool) -> None:
    local = Local(thread_critical)
    plain = threading.local()
    bad_names: list[Any] = [1, None, b"x"]

    def check(bad: Any) -> None:
        expected = python_error(lambda: getattr(plain, bad))
        assert python_error(lambda: getattr(local, bad)) == expected
        assert python_error(lambda: getattr(local, bad, None)) == expected
        expected = python_error(lambda: hasattr(plain, bad))
        assert python_error(lambda: hasattr(local, bad)) == expected
        expected = python_error(lambda: setattr(plain, bad, 1))
        assert python_error(lambda: setattr(local, bad, 1)) == expected
        expected = python_error(lambda: delattr(plain, bad))
        assert python_error(lambda: delattr(local, bad)) == expected
        assert "must be string" in expected

    def scenario() -> None:
        for bad in bad_names:
            check(bad)
        assert list(vars(plain)) == []

    run_maybe_in_loop(inside_loop, scenario)


DATA_GUARDED = pytest.mark.parametrize(
    ("thread_critical", "inside_loop"),
    [(False, False), (False, True), (True, True)],
    ids=["default-sync", "default-async", "critical-async"],
)


@DATA_GUARDED
def test_data_cannot_be_set(thread_critical: bool, inside_loop: bool) -> None:
    local = Local(thread_critical)

    def scenario() -> None:
        with pytest.raises(AttributeError) as info:
            local._data = 1
        assert str(info.value) == "Cannot set attribute '_data' on Local"

    run_maybe_in_loop(inside_loop, scenario)


@pytest.mark.ours_only("local-internals")  # published: _data is its storage's ContextVar
@DATA_GUARDED
def test_data_is_not_an_attribute(thread_critical: bool, inside_loop: bool) -> None:
    local = Local(thread_critical)

    def scenario() -> None:
        with pytest.raises(AttributeError):
            local._data = 1
        assert not hasattr(local, "_data")

    run_maybe_in_loop(inside_loop, scenario)


def test_thread_critical_sync_mode_accepts_data_name() -> None:
    # Published 3.13.0 only guards ``_data`` while a loop is running in the thread.
    local = Local(True)
    local._data = 1
    assert local._data == 1


@MODES_AND_PLACES
def test_class_attributes_still_resolve(thread_critical: bool, inside_loop: bool) -> None:
    local = Local(thread_critical)

    def scenario() -> None:
        assert local.__class__ is type(local)
        assert callable(local.__setattr__)
        assert "__class__" in dir(local)

    run_maybe_in_loop(inside_loop, scenario)


@both_modes()
def test_locals_do_not_share_values(thread_critical: bool) -> None:
    first, second = Local(thread_critical), Local(thread_critical)
    first.name = "first"
    assert read(second, "name") is MISSING
    second.name = "second"
    assert (first.name, second.name) == ("first", "second")
    del first.name
    assert second.name == "second"


def test_many_attributes_and_locals() -> None:
    locals_ = [Local() for _ in range(20)]
    for index, local in enumerate(locals_):
        for attribute in range(10):
            setattr(local, f"a{attribute}", (index, attribute))
    for index, local in enumerate(locals_):
        for attribute in range(10):
            assert getattr(local, f"a{attribute}") == (index, attribute)
    for local in locals_[::2]:
        for attribute in range(0, 10, 3):
            delattr(local, f"a{attribute}")
    for index, local in enumerate(locals_):
        present = {name for name in (f"a{a}" for a in range(10)) if hasattr(local, name)}
        expected = {f"a{a}" for a in range(10) if index % 2 or a % 3}
        assert present == expected


# --------------------------------------------------------------------------- default mode: contexts


def test_copied_context_sees_values_and_keeps_its_writes() -> None:
    local = Local()
    local.value = 1
    ctx = contextvars.copy_context()
    assert ctx.run(read, local, "value") == 1
    ctx.run(setattr, local, "value", 2)
    ctx.run(setattr, local, "extra", 3)
    assert local.value == 1
    assert read(local, "extra") is MISSING
    assert ctx.run(read, local, "value") == 2
    ctx.run(delattr, local, "value")
    assert local.value == 1
    assert ctx.run(read, local, "value") is MISSING


def test_delete_only_affects_current_context() -> None:
    local = Local()
    local.value = 1
    ctx = contextvars.copy_context()
    del local.value
    assert read(local, "value") is MISSING
    assert ctx.run(read, local, "value") == 1


@pytest.mark.anyio
async def test_child_task_sees_values_at_creation_only() -> None:
    local = Local()
    local.value = "parent"
    created = anyio.Event()
    parent_changed = anyio.Event()
    seen: list[tuple[Any, Any, Any]] = []

    async def child() -> None:
        seen_at_start = read(local, "value")
        created.set()
        await parent_changed.wait()
        seen_later = read(local, "value")
        local.value = "child"
        local.child_only = True
        seen.append((seen_at_start, seen_later, read(local, "late")))

    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            group.start_soon(child)
            await created.wait()
            local.value = "parent again"
            local.late = 1
            parent_changed.set()
    assert seen == [("parent", "parent", MISSING)]
    assert local.value == "parent again"
    assert read(local, "child_only") is MISSING


@pytest.mark.anyio
async def test_sibling_tasks_are_isolated() -> None:
    local = Local()
    local.shared = "before"
    barrier_count = 20
    arrived = 0
    all_arrived = anyio.Event()
    results: dict[int, tuple[int, Any]] = {}

    async def worker(index: int) -> None:
        nonlocal arrived
        local.value = index
        del local.shared
        arrived += 1
        if arrived == barrier_count:
            all_arrived.set()
        await all_arrived.wait()
        results[index] = (local.value, read(local, "shared"))

    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            for index in range(barrier_count):
                group.start_soon(worker, index)
    assert [results[i] for i in range(barrier_count)] == [
        (i, MISSING) for i in range(barrier_count)
    ]
    assert read(local, "value") is MISSING
    assert local.shared == "before"


# asyncio.wait_for's own context rules (changed in 3.12) are what is checked.
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_wait_for_child_sees_parent_values() -> None:
    local = Local()
    local.value = 5

    async def child() -> Any:
        local.value = 6
        return read(local, "value")

    assert await asyncio.wait_for(child(), timeout=30) == 6
    # Before 3.12 wait_for wrapped the coroutine in a child task (own context);
    # since 3.12 it runs it in the awaiting task, so the write is the parent's.
    assert local.value == (6 if sys.version_info >= (3, 12) else 5)


@pytest.mark.anyio
async def test_to_thread_sees_nothing() -> None:
    local = Local()
    local.value = 1

    def worker() -> Any:
        seen = read(local, "value")
        local.value = 2
        local.new = 3
        return seen

    # The backend's own worker threads (which run a copy of the caller's context).
    assert await anyio.to_thread.run_sync(worker) is MISSING
    assert local.value == 1
    assert read(local, "new") is MISSING


# asyncio's own thread helpers (asyncio.to_thread, loop.run_in_executor) are checked.
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_asyncio_to_thread_and_executor_see_nothing() -> None:
    local = Local()
    local.value = 1

    def worker() -> Any:
        seen = read(local, "value")
        local.value = 2
        local.new = 3
        return seen

    assert await asyncio.to_thread(worker) is MISSING
    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(None, worker) is MISSING
    assert local.value == 1
    assert read(local, "new") is MISSING


def test_new_thread_starts_empty_and_never_leaks_back() -> None:
    local = Local()
    local.value = 1

    def worker() -> tuple[Any, Any]:
        seen = read(local, "value")
        local.value = 2
        return seen, local.value

    assert in_new_thread(worker) == (MISSING, 2)
    assert local.value == 1


def test_thread_running_a_copy_of_the_creators_context_starts_empty() -> None:
    # What Python 3.14's sys.flags.thread_inherit_context does for every new thread.
    local = Local()
    local.value = 1
    ctx = contextvars.copy_context()

    def worker() -> tuple[Any, Any, Any]:
        seen = read(local, "value")
        local.value = 2
        local.other = 3
        return seen, local.value, local.other

    assert in_new_thread(lambda: ctx.run(worker)) == (MISSING, 2, 3)
    assert local.value == 1
    assert read(local, "other") is MISSING
    # The copy now belongs to the worker thread: this thread sees nothing there.
    assert ctx.run(read, local, "value") is MISSING


def test_thread_running_a_copy_does_not_see_other_locals_either() -> None:
    first, second = Local(), Local()
    first.value = 1
    second.value = 2
    ctx = contextvars.copy_context()

    def worker() -> tuple[Any, Any]:
        first.value = 10
        return read(first, "value"), read(second, "value")

    assert in_new_thread(lambda: ctx.run(worker)) == (10, MISSING)
    assert (first.value, second.value) == (1, 2)


def test_threads_writing_the_same_name_never_see_each_other() -> None:
    local = Local()
    local.counter = 0
    writers = 5
    rounds = 200
    start = threading.Barrier(writers + 1)
    mismatches: list[tuple[int, Any]] = []

    def writer(index: int) -> None:
        start.wait(timeout=30)
        for round_number in range(rounds):
            local.value = (index, round_number)
            seen = local.value
            if seen != (index, round_number):
                mismatches.append((index, seen))
            if read(local, "counter") is not MISSING:
                mismatches.append((index, "counter visible"))

    threads = [
        threading.Thread(target=writer, args=(i,), name=f"writer-{i}") for i in range(writers)
    ]
    for thread in threads:
        thread.start()
    start.wait(timeout=30)
    for expected in range(1, rounds + 1):
        local.counter += 1
        assert local.counter == expected
    for thread in threads:
        thread.join(timeout=30)
    assert mismatches == []
    assert local.counter == rounds
    assert read(local, "value") is MISSING


# --------------------------------------------------------------------------- claim_current_context

# The step our bridge takes to move a context's default-mode values to the thread running it.
# It is private (the published asgiref stores values differently), so these tests are ours only
# and the import is made here, keeping the rest of this module runnable on asgiref 3.13.0.
OURS_ONLY_CLAIM = pytest.mark.ours_only("local-internals")


def claim_current_context() -> None:
    from asgiref.local._ownership import claim_current_context as claim

    claim()


@OURS_ONLY_CLAIM
def test_claim_moves_visibility_to_the_claiming_thread() -> None:
    local = Local()
    local.value = 1
    ctx = contextvars.copy_context()

    def worker() -> tuple[Any, Any]:
        before = read(local, "value")
        claim_current_context()
        after = read(local, "value")
        local.value = 2
        local.added = 3
        return before, after

    assert in_new_thread(lambda: ctx.run(worker)) == (MISSING, 1)
    # Moved, not shared: the original thread no longer sees this context's data...
    assert ctx.run(read, local, "value") is MISSING
    # ...until the context is deliberately moved back.
    ctx.run(claim_current_context)
    assert ctx.run(read, local, "value") == 2
    assert ctx.run(read, local, "added") == 3
    # The original context was never touched.
    assert local.value == 1
    assert read(local, "added") is MISSING


@OURS_ONLY_CLAIM
def test_claim_carries_every_local() -> None:
    locals_ = [Local() for _ in range(10)]
    for index, local in enumerate(locals_):
        local.value = index
    ctx = contextvars.copy_context()

    def worker() -> list[Any]:
        claim_current_context()
        return [read(local, "value") for local in locals_]

    assert in_new_thread(lambda: ctx.run(worker)) == list(range(10))


@OURS_ONLY_CLAIM
def test_claim_without_any_values_is_harmless() -> None:
    local = Local()

    def worker() -> Any:
        claim_current_context()
        claim_current_context()
        local.value = 1
        return local.value

    assert in_new_thread(lambda: contextvars.Context().run(worker)) == 1
    claim_current_context()
    assert read(local, "value") is MISSING


@OURS_ONLY_CLAIM
def test_claim_does_not_carry_thread_critical_values() -> None:
    local = Local(True)
    local.value = 1
    ctx = contextvars.copy_context()

    def worker() -> Any:
        claim_current_context()
        return read(local, "value")

    assert in_new_thread(lambda: ctx.run(worker)) is MISSING


@OURS_ONLY_CLAIM
@pytest.mark.anyio
async def test_claim_in_a_worker_then_back_like_the_bridge() -> None:
    """The bridge's four claim points, played by hand around ``run_in_executor``."""
    local = Local()
    local.value = "caller"
    ctx = contextvars.copy_context()

    def func() -> Any:
        claim_current_context()
        seen = read(local, "value")
        local.value = "func"
        return seen

    assert await anyio.to_thread.run_sync(ctx.run, func) == "caller"
    # Copy the worker's context back into ours, then claim it here.
    for var, value in ctx.items():
        var.set(value)
    claim_current_context()
    assert local.value == "func"


# --------------------------------------------------------------------------- thread-critical mode


def test_critical_sync_is_shared_by_every_context_of_the_thread() -> None:
    local = Local(True)
    local.value = 1
    ctx = contextvars.copy_context()
    ctx.run(setattr, local, "value", 2)
    assert local.value == 2
    contextvars.Context().run(delattr, local, "value")
    assert read(local, "value") is MISSING


def test_critical_threads_are_isolated() -> None:
    local = Local(True)
    local.value = 1

    def worker() -> tuple[Any, Any]:
        seen = read(local, "value")
        local.value = 2
        return seen, local.value

    assert in_new_thread(worker) == (MISSING, 2)
    assert in_new_thread(lambda: contextvars.copy_context().run(worker)) == (MISSING, 2)
    assert local.value == 1


def test_critical_sync_and_async_parts_of_a_thread_are_separate() -> None:
    local = Local(True)
    local.sync_value = 1

    async def main() -> Any:
        seen = read(local, "sync_value")
        local.async_value = 2
        return seen

    assert asyncio.run(main()) is MISSING
    assert read(local, "async_value") is MISSING
    assert local.sync_value == 1


@pytest.mark.anyio
async def test_critical_tasks_are_isolated_like_default_mode() -> None:
    local = Local(True)
    local.value = "parent"
    ready = anyio.Event()
    results: dict[int, tuple[Any, Any]] = {}

    async def child(index: int) -> None:
        seen = read(local, "value")
        local.value = index
        await ready.wait()
        results[index] = (seen, local.value)

    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            for index in range(5):
                group.start_soon(child, index)
            await anyio.wait_all_tasks_blocked()
            ready.set()
    assert [results[i] for i in range(5)] == [("parent", i) for i in range(5)]
    assert local.value == "parent"


@pytest.mark.anyio
async def test_critical_to_thread_sees_nothing() -> None:
    local = Local(True)
    local.value = 1

    def worker() -> tuple[Any, Any]:
        seen = read(local, "value")
        local.value = 2
        return seen, local.value

    assert await anyio.to_thread.run_sync(worker) == (MISSING, 2)
    assert local.value == 1


@pytest.mark.anyio
async def test_critical_values_stay_with_the_loop_thread() -> None:
    """A context carried to another thread's event loop brings no thread-critical values."""
    local = Local(True)
    local.value = "here"
    ctx = contextvars.copy_context()

    async def elsewhere() -> tuple[Any, Any]:
        seen = read(local, "value")
        local.value = "there"
        return seen, local.value

    def other_thread() -> tuple[Any, Any]:
        return ctx.run(asyncio.run, elsewhere())

    assert await anyio.to_thread.run_sync(other_thread) == (MISSING, "there")
    assert local.value == "here"
    assert ctx.run(read, local, "value") == "here"


# --------------------------------------------------------------------------- lifetime


def test_collected_local_does_not_leak_into_new_locals() -> None:
    def make_and_drop() -> weakref.ref[Local]:
        local = Local()
        holder: list[Any] = [local]
        holder.append(holder)  # a reference cycle through the Local
        contextvars.copy_context().run(setattr, local, "secret", "old")
        local.secret = "old"
        del local.secret
        return weakref.ref(holder[0])

    ref = make_and_drop()
    gc.collect()
    assert ref() is None
    fresh = [Local() for _ in range(100)]
    assert all(read(local, "secret") is MISSING for local in fresh)
