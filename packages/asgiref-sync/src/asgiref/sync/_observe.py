"""Bridge events for monitoring agents: the registry and the event dispatch.

The bridge reads :data:`observers` once per call (a module attribute holding a
tuple, empty when nothing is registered) and does nothing more unless it is
non-empty: that single check is the whole cost of instrumentation when no one
listens. Everything else here runs only for observed calls.

A hop is one crossing of the bridge: a ``sync_to_async`` call (the caller is a
task on an event loop, the work runs on a worker thread) or an
``async_to_sync`` call (the caller is a sync thread, the work runs as a task on
an event loop). Both have the same four events, in this order:

``hop_submitted``  in the caller, in the caller's context, before the work is queued
``hop_started``    where the work runs, in the context the work runs in
``hop_ended``      same place, after the work returned or raised
``hop_resumed``    in the caller again, once it stops waiting

``hop_resumed`` can come before ``hop_ended`` only when the caller was cancelled
while a sync function kept running (it cannot be interrupted); a hop dropped
before it started has no start and no end.
"""

from __future__ import annotations

import contextvars
import itertools
import logging
import sys
import threading
import time
from collections.abc import Callable, Generator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ..current_thread_executor import CurrentThreadExecutor
from . import _fork
from ._workers import Worker

if TYPE_CHECKING:
    from concurrent.futures import Executor, Future

logger = logging.getLogger("asgiref.sync")

Direction = Literal["sync_to_async", "async_to_sync"]
# How a sync_to_async call chose its thread, or which loop an async_to_sync call used.
Route = Literal[
    "bridge",  # the sync thread waiting in an enclosing async_to_sync call
    "context",  # the thread of the enclosing ThreadSensitiveContext
    "process-wide",  # SyncToAsync.single_thread_executor
    "orphan",  # a thread of its own: the bridge that would have run it has finished
    "executor",  # thread_sensitive=False with an explicit executor
    "default",  # thread_sensitive=False on the loop's default executor
    "parent-loop",  # async_to_sync on the loop awaiting this thread's sync_to_async call
    "new-loop",  # async_to_sync on an event loop of its own
]


class BridgeObserver:
    """Receives bridge events; subclass it and override the events you need.

    Every method runs synchronously on the bridge's path, so keep it short.
    An exception raised by a method is logged (logger ``asgiref.sync``) and
    otherwise ignored: it never reaches the call being observed.

    The value returned by :meth:`hop_submitted` is this observer's *token* for
    the hop, handed back to the three later events. It is how an agent carries
    a span across the hop: start the span when submitted, make it current when
    started (that runs in the context the work runs in), restore the previous
    one when ended, finish the span when resumed. Keep what you need to undo in
    the token (a small mutable object of your own), never in the hop's
    arguments.

    Which events a subclass overrides is read once, when the observer is
    registered: an event it leaves alone is never called and costs nothing. A
    method assigned to the instance after registration is not seen.
    """

    def hop_submitted(self, hop: Hop) -> object:
        """In the caller, before the work is queued; the return value is this hop's token."""
        return None

    def hop_started(self, hop: Hop, token: Any) -> None:
        """Where the work runs (worker thread, or the loop task), in the work's context."""

    def hop_ended(self, hop: Hop, token: Any) -> None:
        """Where the work ran, right after it; ``hop.error`` is what it raised, if anything."""

    def hop_resumed(self, hop: Hop, token: Any) -> None:
        """In the caller again; ``hop.outcome_error`` is what the caller now raises, if anything."""


_hop_ids = itertools.count(1)
# The hop whose work is running in this context (set while it runs), for parent links.
_current_hop: contextvars.ContextVar[Hop | None] = contextvars.ContextVar(
    "asgiref_current_hop", default=None
)


class Hop:
    """One observed crossing of the bridge, filled in as it goes.

    Times are ``time.perf_counter()`` readings; ``None`` until the event happened.
    """

    __slots__ = (
        "active_token",
        "caller_thread",
        "caller_thread_id",
        "cancelled",
        "direction",
        "ended_at",
        "error",
        "executor",
        "func",
        "id",
        "lane",
        "loop",
        "observer_tokens",
        "outcome_error",
        "parent",
        "resumed_at",
        "route",
        "started_at",
        "submitted_at",
        "thread",
        "thread_id",
        "thread_sensitive",
    )

    def __init__(
        self,
        direction: Direction,
        func: Callable[..., Any],
        *,
        thread_sensitive: bool,
        route: Route,
        lane: str,
        executor: Executor | None,
        loop: object,
    ) -> None:
        current = threading.current_thread()
        self.id = next(_hop_ids)
        #: "sync_to_async" or "async_to_sync".
        self.direction: Direction = direction
        #: The wrapped callable (the sync function, or the async callable).
        self.func = func
        #: True for thread-sensitive sync_to_async calls; False otherwise.
        self.thread_sensitive = thread_sensitive
        self.route: Route = route
        #: A stable name for where the work is queued: a thread name, or an executor's.
        self.lane = lane
        #: The executor the work was submitted to (sync_to_async), else None.
        self.executor = executor
        #: The event loop involved: the awaiting loop (sync_to_async), the loop the
        #: coroutine runs on (async_to_sync; known once started).
        self.loop = loop
        #: The enclosing hop whose work made this call, if it was observed.
        self.parent: Hop | None = _current_hop.get()
        self.caller_thread = current.name
        self.caller_thread_id = current.ident
        #: The thread the work ran on, once started.
        self.thread: str | None = None
        self.thread_id: int | None = None
        self.submitted_at = time.perf_counter()
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.resumed_at: float | None = None
        #: What the work raised (any BaseException), set when it ended.
        self.error: BaseException | None = None
        #: What the caller raises on resuming (the work's error, or CancelledError).
        self.outcome_error: BaseException | None = None
        #: The caller stopped waiting before the work ended (it was cancelled).
        self.cancelled = False
        #: The bridge's bookkeeping: each observer asked at submission, with its token.
        self.observer_tokens: tuple[tuple[Listener, object], ...] = ()
        #: The bridge's bookkeeping: undoes marking this hop current where it runs.
        self.active_token: contextvars.Token[Hop | None] | None = None

    @property
    def name(self) -> str:
        """The wrapped callable's qualified name, for display."""
        return callable_name(self.func)

    @property
    def queue_wait(self) -> float | None:
        """Seconds from submission to the start of the work."""
        if self.started_at is None:
            return None
        return self.started_at - self.submitted_at

    @property
    def run_time(self) -> float | None:
        """Seconds the work ran."""
        if self.started_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.started_at

    @property
    def depth(self) -> int:
        """How many observed hops enclose this one."""
        depth, parent = 0, self.parent
        while parent is not None:
            depth, parent = depth + 1, parent.parent
        return depth

    def __repr__(self) -> str:
        return (
            f"<Hop #{self.id} {self.direction} {self.name} route={self.route} "
            f"lane={self.lane!r} thread_sensitive={self.thread_sensitive}>"
        )


def callable_name(func: object) -> str:
    """A callable's qualified name, for display (a partial's function, an object's class)."""
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    if name is None:
        inner = getattr(func, "func", None)  # a functools.partial
        name = getattr(inner, "__qualname__", None) or type(func).__qualname__
    return str(name)


_HopEvent = Callable[[Hop, Any], None]


class Listener:
    """A registered observer with the event methods it overrides, found once, at registration.

    An event a subclass does not override is never called: an agent listening to
    two events pays for two calls per hop, not four.
    """

    __slots__ = ("ended", "observer", "resumed", "started", "submitted")

    def __init__(self, observer: BridgeObserver) -> None:
        self.observer = observer
        submitted = _overridden(observer, "hop_submitted")
        self.submitted: Callable[[Hop], object] | None = submitted
        self.started: _HopEvent | None = _overridden(observer, "hop_started")
        self.ended: _HopEvent | None = _overridden(observer, "hop_ended")
        self.resumed: _HopEvent | None = _overridden(observer, "hop_resumed")


def _overridden(observer: BridgeObserver, event: str) -> Any:
    """``observer``'s bound method for ``event``, or None if it is BridgeObserver's no-op."""
    method = getattr(observer, event)
    if getattr(method, "__func__", None) is getattr(BridgeObserver, event):
        return None
    return method


# Read by the bridge on every call: keep it a plain tuple, rebound (never mutated).
observers: tuple[Listener, ...] = ()
_registry_lock = threading.Lock()


def _registered(observer: BridgeObserver) -> bool:
    return any(listener.observer is observer for listener in observers)


def add_observer(observer: BridgeObserver) -> None:
    """Send bridge events to ``observer`` from now on (again if added twice: once)."""
    global observers  # noqa: PLW0603 - one process-wide registry, read lock-free
    if not isinstance(observer, BridgeObserver):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise TypeError(
            f"add_observer() needs a BridgeObserver instance, not {type(observer).__name__}; "
            "subclass asgiref.sync.observe.BridgeObserver"
        )
    with _registry_lock:
        if not _registered(observer):
            observers = (*observers, Listener(observer))


def remove_observer(observer: BridgeObserver) -> None:
    """Stop sending events of new hops to ``observer``; hops in flight still finish theirs.

    Raises ValueError if it is not registered.
    """
    global observers  # noqa: PLW0603 - one process-wide registry, read lock-free
    with _registry_lock:
        if not _registered(observer):
            raise ValueError(f"{observer!r} is not a registered bridge observer")
        observers = tuple(listener for listener in observers if listener.observer is not observer)


_Observer = TypeVar("_Observer", bound=BridgeObserver)


@contextmanager
def observing(observer: _Observer) -> Generator[_Observer, None, None]:
    """Register ``observer`` for the duration of a ``with`` block (handy in tests)."""
    add_observer(observer)
    try:
        yield observer
    finally:
        remove_observer(observer)


def _report(listener: Listener, event: str) -> None:
    logger.exception("bridge observer %r failed in %s; the call goes on", listener.observer, event)


# --------------------------------------------------------------------------- dispatch


def submitted(
    current: tuple[Listener, ...],
    direction: Direction,
    func: Callable[..., Any],
    *,
    thread_sensitive: bool,
    route: Route,
    lane: str,
    executor: Executor | None = None,
    loop: object = None,
) -> Hop:
    """Create the hop and tell ``current`` (the registry as the bridge read it) of it."""
    hop = Hop(
        direction,
        func,
        thread_sensitive=thread_sensitive,
        route=route,
        lane=lane,
        executor=executor,
        loop=loop,
    )
    # The observers asked at submission hear every later event of this hop, even if
    # removed meanwhile: a span started is always finished.
    pairs: list[tuple[Listener, object]] = []
    for listener in current:
        token = None
        if listener.submitted is not None:
            try:
                token = listener.submitted(hop)
            except Exception:  # noqa: BLE001 - an observer never breaks the call
                _report(listener, "hop_submitted")
        pairs.append((listener, token))
    hop.observer_tokens = tuple(pairs)
    return hop


def _tell(hop: Hop, event_name: Literal["started", "ended", "resumed"]) -> None:
    """Call each observer's ``hop_<event_name>`` that it overrides, with its token."""
    for listener, token in hop.observer_tokens:
        event: _HopEvent | None = getattr(listener, event_name)
        if event is not None:
            try:
                event(hop, token)
            except Exception:  # noqa: BLE001 - an observer never breaks the call
                _report(listener, f"hop_{event_name}")


def started(hop: Hop, loop: object = None) -> None:
    """The work begins, in this thread and context."""
    current = threading.current_thread()
    hop.thread = current.name
    hop.thread_id = current.ident
    if loop is not None:
        hop.loop = loop
        hop.lane = current.name  # async_to_sync: the loop's thread
    hop.active_token = _current_hop.set(hop)
    hop.started_at = time.perf_counter()
    _tell(hop, "started")


def ended(hop: Hop, error: BaseException | None) -> None:
    """The work is over; undo what ``started`` set in this context."""
    hop.ended_at = time.perf_counter()
    hop.error = error
    _tell(hop, "ended")
    context_token, hop.active_token = hop.active_token, None
    if context_token is not None:
        # Back to the identical previous value, so copying the context back to the
        # caller does not leak this hop into it.
        _current_hop.reset(context_token)


def resumed(hop: Hop, outcome_error: BaseException | None) -> None:
    """The caller stops waiting, with ``outcome_error`` raised or nothing."""
    hop.resumed_at = time.perf_counter()
    hop.outcome_error = outcome_error
    hop.cancelled = hop.ended_at is None
    _tell(hop, "resumed")


def run_observed(hop: Hop, run: Callable[..., Any], *args: Any) -> Any:
    """In the worker, in the call's context: ``run(*args)`` between started and ended."""
    __traceback_hide__ = True  # read by Django's debug page
    started(hop)
    try:
        result = run(*args)
    except BaseException as exc:
        ended(hop, exc)
        raise
    ended(hop, None)
    return result


def current_error() -> BaseException | None:
    """The exception being raised through the caller's ``finally`` block, if any."""
    return sys.exc_info()[1]


# async_to_sync: the hop travels from the calling thread to main_wrap beside the call's
# result future (main_wrap's positional signature is relied on by agents).
# Empty unless an observed async_to_sync call is on its way to main_wrap.
pending_loop_hops: dict[int, Hop] = {}


def expect_in_main_wrap(call_result: Future[Any], hop: Hop) -> None:
    pending_loop_hops[id(call_result)] = hop


def claim_in_main_wrap(call_result: Future[Any]) -> Hop | None:
    return pending_loop_hops.pop(id(call_result), None)


def forget_in_main_wrap(call_result: Future[Any]) -> None:
    pending_loop_hops.pop(id(call_result), None)


# Events of the parent's calls in flight do not happen in a forked child.
_fork.after_fork_in_child(pending_loop_hops.clear)


def lane_of(executor: object) -> str:
    """A stable name for where work submitted to ``executor`` runs: a thread name if known."""
    if executor is None:
        return "loop default executor"
    if isinstance(executor, Worker):
        return executor.name
    if isinstance(executor, CurrentThreadExecutor):
        return work_thread_of(executor).name
    prefix = getattr(executor, "_thread_name_prefix", None)  # a ThreadPoolExecutor
    if prefix:
        return str(prefix)
    return f"{type(executor).__qualname__}@{id(executor):#x}"


def work_thread_of(executor: CurrentThreadExecutor) -> threading.Thread:
    """The sync thread waiting in the async_to_sync call that owns ``executor``."""
    # The executor is defined in this distribution; it keeps its thread privately.
    thread: threading.Thread = executor._work_thread  # pyright: ignore[reportPrivateUsage]
    return thread
