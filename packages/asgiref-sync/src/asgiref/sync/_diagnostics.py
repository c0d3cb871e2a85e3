"""Diagnostics mode: calls in flight, slow-lane warnings, and a dump of the bridge's state.

Diagnostics are an ordinary bridge observer (see ``_observe``), so when they are
off the bridge pays what it pays with no observer at all: one check per call.
When on, every hop is kept in a table while in flight, and a watchdog thread
(started with the first hop, not at import) warns about thread-sensitive calls
that have waited for their lane longer than a threshold, naming the call that
holds the lane and showing its thread's stack.

The table is read without a lock (a copy of a dict is atomic in CPython), so a
dump can be taken from a signal handler even while the interrupted thread was
in the middle of recording a hop.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from collections.abc import Iterable
from types import FrameType
from typing import IO, cast

from ..current_thread_executor import CurrentThreadExecutor
from . import _fork, _observe, _state
from ._loop_runner import loop_threads
from ._observe import BridgeObserver, Hop, logger
from ._workers import Worker

DEFAULT_THRESHOLD = 5.0
_ENVIRONMENT_SWITCH = "ASGIREF_DIAGNOSTICS"
_ENVIRONMENT_THRESHOLD = "ASGIREF_DIAGNOSTICS_THRESHOLD"
END_OF_DUMP = "=== end of asgiref bridge state ==="


class _Tracker(BridgeObserver):
    """Keeps every hop in flight and warns about thread-sensitive calls stuck in a queue."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        # Hop id -> hop; plain dict operations only, each atomic under the GIL.
        self.in_flight: dict[int, Hop] = {}
        self._warned: set[int] = set()
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None
        self._watchdog_lock = threading.Lock()

    def hop_submitted(self, hop: Hop) -> object:
        self.in_flight[hop.id] = hop
        if hop.thread_sensitive and self._watchdog is None:
            self._start_watchdog()
        return None

    def hop_ended(self, hop: Hop, token: object) -> None:
        if hop.resumed_at is not None:  # the caller was cancelled and left earlier
            self._forget(hop)

    def hop_resumed(self, hop: Hop, token: object) -> None:
        # A cancelled caller leaves a sync function running: it stays listed until it ends.
        if hop.started_at is None or hop.ended_at is not None:
            self._forget(hop)

    def _forget(self, hop: Hop) -> None:
        self.in_flight.pop(hop.id, None)
        self._warned.discard(hop.id)

    def _start_watchdog(self) -> None:
        with self._watchdog_lock:
            if self._watchdog is None and not self._stop.is_set():
                self._watchdog = threading.Thread(
                    target=self._watch, name="asgiref-diagnostics", daemon=True
                )
                self._watchdog.start()

    def forget_after_fork(self) -> None:
        """In a forked child: the watchdog and the parent's calls stayed in the parent."""
        self.in_flight.clear()
        self._warned.clear()
        self._watchdog = None
        self._watchdog_lock = threading.Lock()

    def stop(self) -> None:
        self._stop.set()
        watchdog = self._watchdog
        if watchdog is not None and watchdog is not threading.current_thread():
            watchdog.join()

    def _watch(self) -> None:
        interval = max(self.threshold / 4, 0.01)
        while not self._stop.wait(interval):
            now = time.perf_counter()
            for hop in list(self.in_flight.values()):
                if (
                    hop.thread_sensitive
                    and hop.started_at is None
                    and hop.id not in self._warned
                    and now - hop.submitted_at >= self.threshold
                ):
                    self._warned.add(hop.id)
                    self._warn_slow_lane(hop, now - hop.submitted_at)

    def _warn_slow_lane(self, hop: Hop, waited: float) -> None:
        holders = lane_holders(hop, self.in_flight.values())
        frames = sys._current_frames()  # pyright: ignore[reportPrivateUsage]  # another thread's stack
        if holders:
            held_by = "; ".join(_describe(holder) for holder in holders)
        else:
            held_by = "no observed call (the lane's thread is busy with something else)"
        stacks = "".join(
            _thread_stack(ident, frames) for ident in _lane_thread_ids(hop.executor) if ident
        )
        logger.warning(
            "thread-sensitive call %s: waited %.2fs for lane %r, held by %s\n%s",
            _describe(hop),
            waited,
            hop.lane,
            held_by,
            stacks,
        )


def lane_holders(hop: Hop, in_flight: Iterable[Hop]) -> list[Hop]:
    """The hops in flight occupying the thread ``hop`` is queued for, outermost first."""
    idents = set(_lane_thread_ids(hop.executor))
    if not idents:
        return []
    holders = [
        other
        for other in in_flight
        if other is not hop
        and (
            # Running there now ...
            (other.thread_id in idents and other.started_at is not None and other.ended_at is None)
            # ... or that thread is blocked in async_to_sync, waiting for this call.
            or (
                other.direction == "async_to_sync"
                and other.caller_thread_id in idents
                and other.resumed_at is None
            )
        )
    ]
    holders.sort(key=lambda other: other.id)
    return holders


def _lane_thread_ids(executor: object) -> list[int]:
    if isinstance(executor, Worker):
        return [executor.thread.ident or 0]
    if isinstance(executor, CurrentThreadExecutor):
        return [_observe.work_thread_of(executor).ident or 0]
    threads = getattr(executor, "_threads", None)  # a ThreadPoolExecutor
    if isinstance(threads, (set, list)):
        return [thread.ident or 0 for thread in threads if isinstance(thread, threading.Thread)]  # pyright: ignore[reportUnknownVariableType]
    return []


def _describe(hop: Hop) -> str:
    now = time.perf_counter()
    if hop.started_at is None:
        state = f"queued {now - hop.submitted_at:.2f}s"
    elif hop.ended_at is None:
        state = f"running {now - hop.started_at:.2f}s on {hop.thread}"
    else:
        state = f"ended, caller not resumed yet ({hop.thread})"
    ts = "thread-sensitive, " if hop.thread_sensitive else ""
    return (
        f"#{hop.id} {hop.direction}({hop.name}) [{ts}route={hop.route}, lane={hop.lane!r}, "
        f"caller {hop.caller_thread}] {state}"
    )


def _thread_stack(ident: int, frames: dict[int, FrameType]) -> str:
    frame = frames.get(ident)
    name = next((t.name for t in threading.enumerate() if t.ident == ident), f"thread {ident}")
    if frame is None:
        return f"  --- {name}: no Python frame\n"
    lines = traceback.format_stack(frame)
    return f"  --- stack of {name}:\n" + "".join("    " + line for line in lines)


# --------------------------------------------------------------------------- the switch

_tracker: _Tracker | None = None
_switch_lock = threading.Lock()


def enable_diagnostics(threshold: float = DEFAULT_THRESHOLD) -> None:
    """Track calls in flight and warn about thread-sensitive calls waiting over ``threshold`` s.

    Calling it again changes the threshold. Turn off with :func:`disable_diagnostics`.
    """
    global _tracker  # noqa: PLW0603 - one switch per process
    given = cast("object", threshold)  # callers pass anything; check before trusting it
    if isinstance(given, bool) or not isinstance(given, (int, float)) or given <= 0:
        raise ValueError(f"threshold must be a positive number of seconds, not {threshold!r}")
    with _switch_lock:
        if _tracker is not None:
            _observe.remove_observer(_tracker)
            _tracker.stop()
        _tracker = _Tracker(float(threshold))
        _observe.add_observer(_tracker)


def disable_diagnostics() -> None:
    """Stop tracking (a no-op when diagnostics are off); the bridge is back to no cost."""
    global _tracker
    with _switch_lock:
        tracker, _tracker = _tracker, None
    if tracker is not None:
        _observe.remove_observer(tracker)
        tracker.stop()


def diagnostics_enabled() -> bool:
    """True while diagnostics mode is on."""
    return _tracker is not None


def enable_from_environment() -> None:
    """``ASGIREF_DIAGNOSTICS=1`` (and optionally ``ASGIREF_DIAGNOSTICS_THRESHOLD=seconds``)."""
    if os.environ.get(_ENVIRONMENT_SWITCH, "").strip().lower() in ("", "0", "false", "no", "off"):
        return
    raw = os.environ.get(_ENVIRONMENT_THRESHOLD, "")
    try:
        threshold = float(raw) if raw else DEFAULT_THRESHOLD
    except ValueError:
        logger.warning("ignoring %s=%r: not a number of seconds", _ENVIRONMENT_THRESHOLD, raw)
        threshold = DEFAULT_THRESHOLD
    if threshold <= 0:
        threshold = DEFAULT_THRESHOLD
    enable_diagnostics(threshold)


def _forget_after_fork() -> None:
    tracker = _tracker
    if tracker is not None:
        tracker.forget_after_fork()


_fork.after_fork_in_child(_forget_after_fork)


# --------------------------------------------------------------------------- the dump


def dump_bridge_state(file: IO[str] | None = None) -> str:
    """Describe the bridge now: calls in flight, who waits on whom, pools, every thread's stack.

    Returns the text, and also writes it to ``file`` when one is given. Calls in
    flight are known only while diagnostics mode is on; threads and pools always.
    """
    frames = sys._current_frames()  # pyright: ignore[reportPrivateUsage]  # another thread's stack
    threads = {thread.ident: thread for thread in threading.enumerate()}
    tracker = _tracker
    out: list[str] = [f"=== asgiref bridge state (pid {os.getpid()}) ===\n"]
    if tracker is None:
        out.append(
            "diagnostics mode is off: calls in flight are not tracked "
            f"(set {_ENVIRONMENT_SWITCH}=1 or call enable_diagnostics())\n"
        )
    else:
        hops = sorted(tracker.in_flight.values(), key=lambda hop: hop.id)
        out.append(
            f"diagnostics mode is on (slow-lane threshold {tracker.threshold}s); "
            f"{len(hops)} call(s) in flight:\n"
        )
        out.extend(f"  {_describe(hop)}\n" for hop in hops)
        waits = _waits(hops)
        if waits:
            out.append("who waits on whom:\n")
            out.extend(f"  {line}\n" for line in waits)
    out.append("lanes and loop threads:\n")
    out.append(f"  process-wide thread-sensitive executor: {_process_wide_threads()}\n")
    out.append(f"  idle ThreadSensitiveContext lanes: {_state.tsc_lanes.idle_count()}\n")
    out.append(f"  idle loop threads: {loop_threads.idle_count()}\n")
    out.append(f"  new-loop async_to_sync calls running: {len(_state.loop_thread_executors)}\n")
    for loop, bridge in list(_state.loop_thread_executors.items()):
        waiter = _observe.work_thread_of(bridge).name
        out.append(f"    loop {id(loop):#x}: its caller {waiter} waits for it\n")
    out.append("threads:\n")
    for ident, thread in sorted(threads.items(), key=lambda item: item[1].name):
        if ident is None or thread.name == "asgiref-diagnostics":
            continue
        out.append(_thread_stack(ident, frames))
    out.append(END_OF_DUMP + "\n")
    text = "".join(out)
    if file is not None:
        file.write(text)
        file.flush()
    return text


def _process_wide_threads() -> str:
    from ._bridge import SyncToAsync

    # Read from the class dict: the attribute itself would create the executor.
    executor = vars(SyncToAsync).get("single_thread_executor")
    names = sorted(
        name
        for ident in _lane_thread_ids(executor)
        if ident and (name := _thread_name(ident)) is not None
    )
    return ", ".join(names) if names else "not started"


def _thread_name(ident: int) -> str | None:
    return next((t.name for t in threading.enumerate() if t.ident == ident), None)


def _waits(hops: list[Hop]) -> list[str]:
    lines: list[str] = []
    for hop in hops:
        if hop.started_at is None:
            holders = lane_holders(hop, hops)
            target = ", ".join(f"#{h.id}" for h in holders) or "its lane's thread"
            lines.append(f"#{hop.id} (queued for {hop.lane!r}) waits for {target}")
        if hop.resumed_at is None:
            lines.append(
                f"{hop.caller_thread} waits for #{hop.id}"
                + ("" if hop.direction == "sync_to_async" else " (blocked in async_to_sync)")
            )
    return lines
