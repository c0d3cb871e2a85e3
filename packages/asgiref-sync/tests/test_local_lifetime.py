"""Local lifetime: no reference cycles, no growth over many short-lived tasks (20-local.md §5).

The cycle tests run with the garbage collector disabled: an object that dies
there was freed by reference counting alone, so nothing we built formed a cycle.
The growth test runs 100,000 set/get/del cycles per mode (the million-cycle
version is ``benchmarks/soak_local.py``).
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import sys
import threading
import weakref
from collections.abc import Generator
from contextlib import contextmanager
from typing import Any

import pytest
from asgiref.local import Local

pytestmark = pytest.mark.skipif(
    sys.implementation.name != "cpython", reason="relies on CPython reference counting"
)


class Value:
    """A stored value we can hold a weak reference to."""


@contextmanager
def gc_disabled() -> Generator[None, None, None]:
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def exercise(local: Local, value: Value) -> None:
    """Every operation once, including the failing ones."""
    local.value = value
    assert local.value is value
    local.other = 1
    del local.other
    assert getattr(local, "missing", None) is None
    try:
        del local.missing
    except AttributeError:
        pass
    else:
        pytest.fail("deleting a missing attribute must fail")


@pytest.mark.parametrize("thread_critical", [False, True], ids=["default", "critical"])
def test_no_cycles_in_sync_code(thread_critical: bool) -> None:
    with gc_disabled():
        local = Local(thread_critical)
        value = Value()
        local_ref, value_ref = weakref.ref(local), weakref.ref(value)
        ctx = contextvars.Context()
        ctx.run(exercise, local, value)
        del local, value, ctx
        assert local_ref() is None
        assert value_ref() is None


@pytest.mark.parametrize("thread_critical", [False, True], ids=["default", "critical"])
def test_no_cycles_in_threads(thread_critical: bool) -> None:
    with gc_disabled():
        local = Local(thread_critical)
        value = Value()
        local_ref, value_ref = weakref.ref(local), weakref.ref(value)
        thread = threading.Thread(target=exercise, args=(local, value), name="test-lifetime")
        thread.start()
        thread.join(timeout=30)
        del local, value, thread
        assert local_ref() is None
        assert value_ref() is None


@pytest.mark.parametrize("thread_critical", [False, True], ids=["default", "critical"])
def test_no_cycles_in_tasks(thread_critical: bool) -> None:
    refs: list[weakref.ref[Any]] = []

    async def task(local: Local) -> None:
        value = Value()
        refs.append(weakref.ref(value))
        exercise(local, value)
        await asyncio.sleep(0)
        assert local.value is value

    async def main(local: Local) -> None:
        await asyncio.gather(*(task(local) for _ in range(10)))

    with gc_disabled():
        local = Local(thread_critical)
        refs.append(weakref.ref(local))
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(main(local))
        finally:
            loop.close()
        del local, loop
        # Finished tasks and their contexts are freed by reference counting.
        assert [ref() for ref in refs] == [None] * len(refs)


def test_thread_critical_failed_lookup_leaves_no_garbage() -> None:
    """The published 3.13.0 regression test, observed through gc.garbage."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        local = Local(thread_critical=True)
        with pytest.raises(AttributeError):
            _ = local.missing
        del local
        gc.collect()
        assert gc.garbage == []
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def test_default_mode_failed_lookup_leaves_no_garbage() -> None:
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        local = Local()
        local.present = 1
        with pytest.raises(AttributeError):
            _ = local.missing
        with pytest.raises(AttributeError):
            del local.missing
        del local.present
        del local
        gc.collect()
        assert gc.garbage == []
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


# --------------------------------------------------------------------------- growth

_CYCLES_PER_TASK = 100
_TASKS_PER_ROUND = 250  # 25,000 set/get/del cycles per round
_CONCURRENT = 50


def _cycles(local: Local, count: int) -> None:
    for index in range(count):
        local.value = index
        assert local.value == index
        del local.value


def run_round(local: Local, loop: asyncio.AbstractEventLoop) -> None:
    async def task() -> None:
        _cycles(local, _CYCLES_PER_TASK // 2)
        await asyncio.sleep(0)
        _cycles(local, _CYCLES_PER_TASK // 2)

    async def main() -> None:
        for _ in range(_TASKS_PER_ROUND // _CONCURRENT):
            await asyncio.gather(*(task() for _ in range(_CONCURRENT)))

    loop.run_until_complete(main())


def footprint() -> tuple[int, int]:
    gc.collect()
    return len(gc.get_objects()), sys.getallocatedblocks()


@pytest.mark.parametrize("thread_critical", [False, True], ids=["default", "critical"])
def test_no_growth_over_many_short_lived_tasks(thread_critical: bool) -> None:
    local = Local(thread_critical)
    local.outside = "kept"  # a value in the enclosing context/thread throughout
    loop = asyncio.new_event_loop()
    try:
        run_round(local, loop)  # warm-up: caches, free lists, loop internals
        samples = [footprint()]
        for _ in range(3):  # 75,000 more cycles
            run_round(local, loop)
            samples.append(footprint())
    finally:
        loop.close()
    objects = [s[0] for s in samples]
    blocks = [s[1] for s in samples]
    # Anything kept per cycle would show up as thousands per round.
    assert max(objects) - min(objects) < 50, objects
    assert max(blocks) - min(blocks) < 500, blocks
    assert local.outside == "kept"


def test_no_growth_in_sync_code_and_threads() -> None:
    local = Local()
    critical = Local(True)

    def work() -> None:
        for target in (local, critical):
            _cycles(target, 2_000)
            contextvars.copy_context().run(_cycles, target, 500)

    def round_of_threads() -> None:
        threads = [threading.Thread(target=work, name=f"test-growth-{i}") for i in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        work()

    round_of_threads()
    samples = [footprint()]
    for _ in range(3):
        round_of_threads()
        samples.append(footprint())
    objects = [s[0] for s in samples]
    blocks = [s[1] for s in samples]
    assert max(objects) - min(objects) < 50, objects
    assert max(blocks) - min(blocks) < 500, blocks
