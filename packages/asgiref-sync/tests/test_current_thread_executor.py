"""CurrentThreadExecutor: work runs in the creating thread while it waits."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, Future

import pytest
from asgiref.current_thread_executor import CurrentThreadExecutor


def _in_thread(target: Callable[[], object]) -> threading.Thread:
    thread = threading.Thread(target=target)
    thread.start()
    return thread


def test_work_runs_in_creating_thread_fifo() -> None:
    executor = CurrentThreadExecutor(None)
    done: Future[None] = Future()
    ran: list[tuple[int, threading.Thread]] = []
    results: list[Future[int]] = []

    def submitter() -> None:
        def record(i: int) -> int:
            ran.append((i, threading.current_thread()))
            return i

        results.extend(executor.submit(record, i) for i in range(5))
        results[-1].add_done_callback(lambda _f: done.set_result(None))

    thread = _in_thread(submitter)
    executor.run_until_future(done)
    thread.join()
    assert [i for i, _ in ran] == [0, 1, 2, 3, 4]
    assert all(t is threading.current_thread() for _, t in ran)
    assert [f.result() for f in results] == [0, 1, 2, 3, 4]


def test_old_executor_is_positional() -> None:
    # The published signature; forwarding is tested below.
    outer = CurrentThreadExecutor(None)
    assert isinstance(CurrentThreadExecutor(outer), CurrentThreadExecutor)


@pytest.mark.ours_only("current-thread-executor-optional-argument")
def test_old_executor_is_optional() -> None:
    assert isinstance(CurrentThreadExecutor(), CurrentThreadExecutor)


def test_run_from_other_thread_raises() -> None:
    executor = CurrentThreadExecutor(None)
    errors: list[BaseException] = []

    def runner() -> None:
        try:
            executor.run_until_future(Future())
        except RuntimeError as exc:
            errors.append(exc)

    _in_thread(runner).join()
    assert [str(e) for e in errors] == [
        "You cannot run CurrentThreadExecutor from a different thread"
    ]


def test_submit_from_own_thread_raises() -> None:
    executor = CurrentThreadExecutor(None)
    with pytest.raises(
        RuntimeError, match=r"^You cannot submit onto CurrentThreadExecutor from its own thread$"
    ):
        executor.submit(print)


def test_exceptions_are_stored_and_do_not_stop_the_loop() -> None:
    executor = CurrentThreadExecutor(None)
    done: Future[None] = Future()
    boom = KeyboardInterrupt("stored")
    futures: list[Future[object]] = []

    def raiser() -> None:
        raise boom

    def submitter() -> None:
        futures.append(executor.submit(raiser))
        futures.append(executor.submit(lambda: "after"))
        futures[-1].add_done_callback(lambda _f: done.set_result(None))

    thread = _in_thread(submitter)
    executor.run_until_future(done)
    thread.join()
    assert futures[0].exception() is boom
    assert futures[1].result() == "after"


def test_cancelled_item_is_skipped() -> None:
    executor = CurrentThreadExecutor(None)
    done: Future[None] = Future()
    ran: list[str] = []
    cancelled: list[bool] = []

    def submitter() -> None:
        first = executor.submit(ran.append, "first")
        cancelled.append(first.cancel())
        last = executor.submit(ran.append, "second")
        last.add_done_callback(lambda _f: done.set_result(None))

    thread = _in_thread(submitter)
    executor.run_until_future(done)
    thread.join()
    assert cancelled == [True]
    assert ran == ["second"]


def test_items_queued_before_finish_are_drained() -> None:
    executor = CurrentThreadExecutor(None)
    done: Future[None] = Future()
    ran: list[int] = []
    queued = threading.Event()

    def submitter() -> None:
        for i in range(3):
            executor.submit(ran.append, i)
        queued.set()
        done.set_result(None)

    thread = _in_thread(submitter)
    executor.run_until_future(done)
    thread.join()
    assert queued.is_set()
    assert ran == [0, 1, 2]


def test_finished_executor_forwards_to_old_and_then_raises() -> None:
    outer = CurrentThreadExecutor(None)
    inner_holder: list[CurrentThreadExecutor] = []
    outer_done: Future[None] = Future()
    forwarded: list[Future[threading.Thread]] = []
    inner_ready = threading.Event()
    errors: list[str] = []

    def inner_thread() -> None:
        inner = CurrentThreadExecutor(outer)
        inner_holder.append(inner)
        finished: Future[None] = Future()
        finished.set_result(None)
        inner.run_until_future(finished)  # finishes at once
        inner_ready.set()

    def submitter() -> None:
        inner_ready.wait()
        # Inner has finished: the item must travel to the outer executor.
        forwarded.append(inner_holder[0].submit(threading.current_thread))
        forwarded[0].add_done_callback(lambda _f: outer_done.set_result(None))

    threads = [_in_thread(inner_thread), _in_thread(submitter)]
    outer.run_until_future(outer_done)
    for thread in threads:
        thread.join()
    assert forwarded[0].result() is threading.current_thread()

    def late() -> None:
        try:
            inner_holder[0].submit(print)
        except RuntimeError as exc:
            errors.append(str(exc))

    _in_thread(late).join()
    assert errors == ["CurrentThreadExecutor already quit or is broken"]


def test_second_run_after_finish_returns_immediately() -> None:
    executor = CurrentThreadExecutor(None)
    first: Future[None] = Future()
    first.set_result(None)
    executor.run_until_future(first)
    executor.run_until_future(Future())  # never completes, must not block
    ran: list[BaseException] = []

    def submitter() -> None:
        try:
            executor.submit(print)
        except RuntimeError as exc:
            ran.append(exc)

    _in_thread(submitter).join()
    assert len(ran) == 1


def test_concurrent_submitters_all_run_exactly_once() -> None:
    executor = CurrentThreadExecutor(None)
    counter: list[int] = []
    barrier = threading.Barrier(8)
    all_submitted: Future[None] = Future()
    results: list[Future[None]] = []
    lock = threading.Lock()

    def submitter(base: int) -> None:
        barrier.wait()
        mine = [executor.submit(counter.append, base + i) for i in range(200)]
        with lock:
            results.extend(mine)
            if len(results) == 1600:
                all_submitted.set_result(None)

    threads = [threading.Thread(target=submitter, args=(n * 1000,)) for n in range(8)]
    for thread in threads:
        thread.start()
    executor.run_until_future(all_submitted)
    for thread in threads:
        thread.join()
    assert all(f.done() for f in results)
    assert sorted(counter) == sorted(n * 1000 + i for n in range(8) for i in range(200))


def test_map_and_shutdown_are_inherited() -> None:
    executor = CurrentThreadExecutor(None)
    done: Future[None] = Future()
    out: list[list[int]] = []

    def submitter() -> None:
        def double(x: int) -> int:
            return x * 2

        out.append(list(executor.map(double, [1, 2, 3])))
        done.set_result(None)

    thread = _in_thread(submitter)
    executor.run_until_future(done)
    thread.join()
    assert out == [[2, 4, 6]]
    executor.shutdown()


def test_cancelled_future_state_is_reported() -> None:
    executor = CurrentThreadExecutor(None)
    done: Future[None] = Future()
    got: list[type[BaseException]] = []

    def submitter() -> None:
        fut = executor.submit(print)
        fut.cancel()
        try:
            fut.result()
        except CancelledError as exc:
            got.append(type(exc))
        done.set_result(None)

    thread = _in_thread(submitter)
    executor.run_until_future(done)
    thread.join()
    assert got == [CancelledError]
