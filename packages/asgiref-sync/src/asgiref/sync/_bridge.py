"""SyncToAsync and AsyncToSync: calling sync code from async code and back.

The two directions are one mechanism: a sync function awaited from a loop may
call back into async code, which may call sync code again, and each hop must
know where the enclosing hops wait. That shared knowledge lives in ``_state``
and is exposed under the class attribute names Django, Channels and
monitoring agents use.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import sys
import threading
import warnings
from _thread import get_ident
from asyncio.events import _get_running_loop  # pyright: ignore[reportPrivateUsage]
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from types import FunctionType, TracebackType
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Concatenate,
    Generic,
    ParamSpec,
    TypeVar,
    cast,
    overload,
)

from ..current_thread_executor import CurrentThreadExecutor
from ..local import Local
from ..local._ownership import claim_current_context
from ..local._trio_run import in_trio_run
from . import _cycles, _fork, _observe, _state
from ._context_copy import restore_context
from ._contexts import loop_thread_for
from ._coroutines import iscoroutinefunction, markcoroutinefunction
from ._loop_runner import loop_threads, run_call

if TYPE_CHECKING:
    import weakref

    from ._contexts import AsyncSingleThreadContext, ThreadSensitiveContext
    from ._workers import Worker

_P = ParamSpec("_P")
_R = TypeVar("_R")
# A wrapped callable's first parameter, and the rest: what its bound form takes.
_First = TypeVar("_First")
_BoundP = ParamSpec("_BoundP")

_ExcInfo = tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]

_threadlocal = _state.threadlocal
_bridge_executors = _state.bridge_executors
_loop_thread_executors = _state.loop_thread_executors
_deadlock_context = _state.deadlock_context
_thread_sensitive_context = _state.thread_sensitive_context
_async_single_thread_context = _state.async_single_thread_context


class _ProcessWideExecutor:
    """``SyncToAsync.single_thread_executor`` until someone assigns their own.

    The executor (and its one thread) is created on first use rather than at
    import, and forgotten in a forked child, where its thread does not exist.
    """

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._home: type | None = None
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._home = owner
        self._name = name

    def __get__(self, instance: object, owner: type | None = None) -> ThreadPoolExecutor:
        executor = self._executor
        if executor is None:
            with self._lock:
                executor = self._executor
                if executor is None:
                    executor = self._executor = ThreadPoolExecutor(
                        max_workers=1,
                        thread_name_prefix="asgiref-sync-worker",
                        # Its thread's ident, so a call from that thread is told apart.
                        initializer=_cycles.remember_process_wide_lane,
                    )
                    home = self._home
                    if home is not None and vars(home).get(self._name) is self:
                        # From now on a plain class attribute, as in the published
                        # asgiref: every thread-sensitive call reads it, and this
                        # method is no longer in the way. A fork puts it back.
                        setattr(home, self._name, executor)
        return executor

    def created(self) -> ThreadPoolExecutor | None:
        """The executor made so far, if any."""
        return self._executor

    def forget_after_fork(self) -> None:
        self._executor = None
        self._lock = threading.Lock()


_process_wide_executor = _ProcessWideExecutor()
_UNBOUND = object()


# Context.run unbound, so a partial can carry some of its arguments (typeshed's
# ParamSpec signature cannot express that).
_context_run: Any = contextvars.Context.run


def _enter_and_call(loop_bridge: CurrentThreadExecutor | None, child: Callable[[], Any]) -> Any:
    """Runs in the worker thread, inside the call's context: run the user's function."""
    __traceback_hide__ = True  # read by Django's debug page
    # Which new-loop bridge call (if any) owned the awaiting loop, so that an
    # async_to_sync made later from this thread can tell that call has ended.
    _threadlocal.bridge_of_main_loop = loop_bridge
    claim_current_context()
    return child()


def _wake(loop: asyncio.AbstractEventLoop, waiter: asyncio.Future[None], _done: object) -> None:
    # Runs in the thread that finished the work.
    try:
        loop.call_soon_threadsafe(_resolve, waiter)
    except RuntimeError:
        return  # the loop has closed: nobody is waiting any more


def _resolve(waiter: asyncio.Future[None], _done: object = None) -> None:
    if not waiter.done():
        waiter.set_result(None)


class _Outcome(Generic[_R]):
    """What a function run through ``run_in_executor`` returned or raised, kept as is."""

    __slots__ = ("error", "value")

    def __init__(self) -> None:
        self.error: BaseException | None = None
        self.value: _R | None = None

    def capture(self, fn: Callable[..., _R], *args: Any) -> None:
        __traceback_hide__ = True  # read by Django's debug page
        try:
            self.value = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting caller, as is
            self.error = exc

    def result(self) -> _R:
        __traceback_hide__ = True  # read by Django's debug page
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]  # set by capture() when error is None


class SyncToAsync(Generic[_P, _R]):
    """An awaitable wrapper running a sync function in a worker thread.

    Thread-sensitive calls (the default) all run in one thread per situation:
    the sync thread waiting in an enclosing ``async_to_sync``, the thread of the
    enclosing ``ThreadSensitiveContext``, or one process-wide thread.
    """

    # Compatibility surface: these names are read (and some written) by Django,
    # Channels, monitoring agents and user code.
    threadlocal: ClassVar[threading.local] = _state.threadlocal
    if TYPE_CHECKING:
        single_thread_executor: ClassVar[ThreadPoolExecutor]
    else:
        single_thread_executor = _process_wide_executor
    thread_sensitive_context: ClassVar[contextvars.ContextVar[ThreadSensitiveContext]] = (
        _state.thread_sensitive_context
    )
    deadlock_context: ClassVar[contextvars.ContextVar[bool]] = _state.deadlock_context
    context_to_thread_executor: ClassVar[
        weakref.WeakKeyDictionary[ThreadSensitiveContext, Executor]
    ] = _state.context_to_thread_executor

    func: Callable[_P, _R]
    context: contextvars.Context | None

    def __init__(
        self,
        func: Callable[_P, _R],
        thread_sensitive: bool = True,
        executor: Executor | None = None,
        context: contextvars.Context | None = None,
    ) -> None:
        wrapped: object = func  # callers pass anything; check before trusting the type
        plain_function = isinstance(wrapped, FunctionType)
        if (
            not callable(wrapped)
            or iscoroutinefunction(func)
            # A plain function's __call__ is a fresh method-wrapper, which can carry
            # no coroutine marker: only other callables need the second look.
            or (
                not plain_function and iscoroutinefunction(getattr(func, "__call__", func))  # noqa: B004 - want the method
            )
        ):
            raise TypeError("sync_to_async can only be applied to sync functions.")
        functools.update_wrapper(self, func)
        # After update_wrapper, so a ``func``/``context`` in the wrapped __dict__ loses.
        self.func = func
        self.context = context
        self._thread_sensitive = thread_sensitive
        markcoroutinefunction(self)
        if thread_sensitive and executor is not None:
            raise TypeError("executor must not be set when thread_sensitive is True")
        self._executor = executor
        bound_to = getattr(wrapped, "__self__", _UNBOUND)
        if bound_to is not _UNBOUND:
            self.__self__ = bound_to

    async def __call__(self, *args: _P.args, **kwargs: _P.kwargs) -> _R:  # noqa: PLR0912, PLR0915 - one hot path kept in one frame
        __traceback_hide__ = True  # read by Django's debug page
        loop = _get_running_loop()
        if loop is None:
            return await self._call_outside_asyncio(args, kwargs)
        # The new-loop bridge call (if any) owning this loop.
        loop_bridge = _loop_thread_executors.get(loop)
        try:
            if self._thread_sensitive:
                # The one thread this call must run in, in the spec's order (inline:
                # a method call here is a measurable share of a small call).
                executor: Executor | None = getattr(_bridge_executors, "current", None)
                if not executor:
                    tsc = _thread_sensitive_context.get(None)
                    if tsc is not None:
                        # The context and the bridge are one mechanism in two modules.
                        executor = tsc._executor_for_call()  # pyright: ignore[reportPrivateUsage]
                        if _cycles.lane_is_this_thread(executor):
                            raise _cycles.own_lane_error(self.func)
                    elif loop_bridge is not None:
                        executor = loop_bridge
                    elif _deadlock_context.get(False):
                        raise _flagged_deadlock(self)
                    else:
                        _deadlock_context.set(True)
                        executor = self.single_thread_executor
                        # Only the process-wide thread itself can be that thread: an
                        # int compare, the whole cost of this check on the hot path.
                        if get_ident() == _cycles.process_wide_lane and _is_process_wide(executor):
                            raise _cycles.own_lane_error(self.func)
            else:
                executor = self._executor
            context = self.context
            copied = context is None
            if context is None:
                context = contextvars.copy_context()
            child = functools.partial(self.func, *args, **kwargs)
            task_context: list[asyncio.Task[Any]] = []
            # One argument (the child) away from running it in the worker, in context.
            func = functools.partial(_context_run, context, _enter_and_call, loop_bridge)
            hop: _observe.Hop | None = None
            if _observe.observers:  # the one check instrumentation costs when nobody listens
                hop = _hop_submitted(self, executor, loop)
                func = functools.partial(
                    _context_run, context, _observe.run_observed, hop, _enter_and_call, loop_bridge
                )
            exc_info = sys.exc_info()
            outcome: _Outcome[_R] | None = None
            if executor is None:
                # The loop's default executor, read from a private attribute because
                # asyncio has no public accessor. Submitting to it directly instead of
                # through run_in_executor skips the asyncio future chained in front of
                # ours: without this, a non-thread-sensitive call costs ~1.3x (awaited
                # one by one) to ~1.5x (1,000 under gather) the instructions of a bare
                # run_in_executor, against ~0.95x / ~1.1x with it.
                executor = getattr(loop, "_default_executor", None)
            try:
                if executor is None:
                    # The default executor does not exist yet (it is created on first
                    # use), or the loop keeps it elsewhere. run_in_executor's future would
                    # turn the function's exception into a copy (or, for StopIteration,
                    # never complete), so the outcome comes back beside it, as is.
                    outcome = _Outcome()
                    work: asyncio.Future[Any] | Future[_R] = loop.run_in_executor(
                        None,
                        outcome.capture,
                        self.thread_handler,
                        loop,
                        exc_info,
                        task_context,
                        func,
                        child,
                    )
                else:
                    try:
                        work = executor.submit(
                            self.thread_handler, loop, exc_info, task_context, func, child
                        )
                    except RuntimeError as exc:
                        work = _after_refused_submit(
                            self,
                            exc,
                            executor,
                            hop,
                            self.thread_handler,
                            loop,
                            exc_info,
                            task_context,
                            func,
                            child,
                        )
            except BaseException as exc:
                if hop is not None:  # every hop_submitted has its hop_resumed
                    _observe.resumed(hop, exc)
                raise
            try:
                waiter = loop.create_future()
                if isinstance(work, Future):
                    work.add_done_callback(functools.partial(_wake, loop, waiter))
                else:
                    work.add_done_callback(functools.partial(_resolve, waiter))
                try:
                    await waiter
                except asyncio.CancelledError:
                    if not await self._finished_after_cancellation(loop, work, task_context):
                        work.cancel()  # drops it if not started yet
                        raise
                if outcome is not None:
                    work.result()  # raises only if the work was cancelled
                    return outcome.result()
                return work.result()
            finally:
                if copied:
                    restore_context(context)
                    claim_current_context()
                if hop is not None:
                    _observe.resumed(hop, _observe.current_error())
        finally:
            _deadlock_context.set(False)

    async def _call_outside_asyncio(self, args: Any, kwargs: Any) -> _R:
        """``__call__`` where no asyncio loop runs: in a trio run, or a clear error.

        The same choice of thread, context copy and copy-back as under asyncio;
        the waiting (and what cancellation does) is trio's, in ``_trio_bridge``.
        """
        __traceback_hide__ = True  # read by Django's debug page
        if not in_trio_run():
            raise RuntimeError("no running event loop")
        from . import _trio_bridge  # imported by trio users only

        portal = _trio_bridge.TrioPortal.current()
        hop: _observe.Hop | None = None
        try:
            executor = self._executor_outside_asyncio()
            context = self.context
            copied = context is None
            if context is None:
                context = contextvars.copy_context()
            child = functools.partial(self.func, *args, **kwargs)
            func = functools.partial(_context_run, context, _enter_and_call, None)
            if _observe.observers:
                hop = _hop_submitted(self, executor, portal)
                func = functools.partial(
                    _context_run, context, _observe.run_observed, hop, _enter_and_call, None
                )
            # The worker records the portal where asyncio's loop would be, so that an
            # async_to_sync in that thread comes back into this trio run.
            handler = functools.partial(
                self.thread_handler,
                cast("asyncio.AbstractEventLoop", portal),
                sys.exc_info(),
                [],
                func,
                child,
            )
            outcome: _Outcome[_R] = _Outcome()
            if executor is None:
                await _trio_bridge.run_in_worker_thread(functools.partial(outcome.capture, handler))
            else:
                await _trio_bridge.wait_for(_submit(self, executor, hop, outcome.capture, handler))
            # Only a finished call copies its context back: an abandoned one is still running.
            if copied:
                restore_context(context)
                claim_current_context()
            return outcome.result()
        finally:
            if hop is not None:
                _observe.resumed(hop, _observe.current_error())
            _deadlock_context.set(False)

    def _executor_outside_asyncio(self) -> Executor | None:
        """The executor of a call in a trio run: ``__call__``'s order, less the new-loop bridge."""
        if not self._thread_sensitive:
            return self._executor  # None: trio's worker threads, its "default executor"
        executor: Executor | None = getattr(_bridge_executors, "current", None)
        if executor:
            return executor
        tsc = _thread_sensitive_context.get(None)
        if tsc is not None:
            executor = tsc._executor_for_call()  # pyright: ignore[reportPrivateUsage]
            if _cycles.lane_is_this_thread(executor):
                raise _cycles.own_lane_error(self.func)
            return executor
        if _deadlock_context.get(False):
            raise _flagged_deadlock(self)
        _deadlock_context.set(True)
        executor = self.single_thread_executor
        if get_ident() == _cycles.process_wide_lane and _is_process_wide(executor):
            raise _cycles.own_lane_error(self.func)
        return executor

    async def _finished_after_cancellation(
        self,
        loop: asyncio.AbstractEventLoop,
        work: asyncio.Future[_R] | Future[_R],
        task_context: list[asyncio.Task[Any]],
    ) -> bool:
        """The awaiting task was cancelled: True once the work has finished anyway.

        The function cannot be interrupted. If it waits in async_to_sync on this
        loop, that task is cancelled first; if it completes anyway, so does this
        call (wait for the function). Otherwise the caller gives up (False).
        """
        __traceback_hide__ = True  # read by Django's debug page
        while await self._inner_bridge_kept_running(loop, task_context):
            waiter = loop.create_future()
            if isinstance(work, Future):
                work.add_done_callback(functools.partial(_wake, loop, waiter))
            else:
                work.add_done_callback(functools.partial(_resolve, waiter))
            try:
                await waiter
            except asyncio.CancelledError:
                continue  # cancelled again: same steps
            return True
        return False

    @staticmethod
    async def _inner_bridge_kept_running(
        loop: asyncio.AbstractEventLoop, task_context: list[asyncio.Task[Any]]
    ) -> bool:
        """On cancellation: cancel the function's async_to_sync task on this loop and await it.

        True when it completed anyway, in which case the caller keeps waiting
        for the function instead of raising CancelledError.
        """
        tasks = [task for task in task_context if task.get_loop() is loop]
        if not tasks:
            return False
        for task in tasks:
            task.cancel()
        completed = False
        for task in tasks:
            try:
                await task
            except asyncio.CancelledError:
                if not task.done():
                    raise  # this task itself was cancelled again
            except BaseException:  # noqa: BLE001, S110 - it ended; only normal completion counts
                pass
            else:
                completed = True
        return completed

    def thread_handler(
        self,
        loop: asyncio.AbstractEventLoop,
        exc_info: _ExcInfo,
        task_context: list[asyncio.Task[Any]],
        func: Callable[[Callable[[], _R]], _R],
        *args: Any,
        **kwargs: Any,
    ) -> _R:
        """Runs in the worker thread: record where the call came from, then call ``func``."""
        __traceback_hide__ = True  # read by Django's debug page
        threadlocal = self.threadlocal
        threadlocal.main_event_loop = loop
        threadlocal.main_event_loop_pid = _process_id
        threadlocal.task_context = task_context
        if exc_info[1] is not None:
            # Run with the caller's handled exception as the current one.
            try:
                raise exc_info[1]
            except BaseException:  # noqa: BLE001 - re-creates the caller's except block
                return func(*args, **kwargs)
        return func(*args, **kwargs)

    # The overloads give a bound method the wrapped signature minus its first parameter.
    # Type checkers also call this under @classmethod and @staticmethod (the runtime does
    # not), so the case is told from what the first parameter accepts, in this order:
    # the class (a classmethod, bound to it); the instance (a method, bound to it); an
    # instance, through the class (the runtime binds None there: calls are unchecked);
    # none of these (a staticmethod, unbound). A staticmethod whose first parameter takes
    # the class or its instances (object, Any) is therefore typed as bound.
    @overload
    def __get__(
        self: Callable[Concatenate[_First, _BoundP], Coroutine[Any, Any, _R]],
        parent: object,
        objtype: _First,
    ) -> Callable[_BoundP, Coroutine[Any, Any, _R]]: ...

    @overload
    def __get__(
        self: Callable[Concatenate[_First, _BoundP], Coroutine[Any, Any, _R]],
        parent: _First,
        objtype: Any,
    ) -> Callable[_BoundP, Coroutine[Any, Any, _R]]: ...

    @overload
    def __get__(
        self: Callable[Concatenate[_First, _BoundP], Coroutine[Any, Any, _R]],
        parent: None,
        objtype: type[_First],
    ) -> Callable[..., Coroutine[Any, Any, _R]]: ...

    @overload
    def __get__(self, parent: object, objtype: Any) -> Callable[_P, Coroutine[Any, Any, _R]]: ...

    def __get__(self, parent: Any, objtype: Any) -> Callable[..., Coroutine[Any, Any, _R]]:
        bound = functools.partial(self.__call__, parent)
        return functools.update_wrapper(bound, self.func)


# Recorded by every sync_to_async call; a syscall saved per call.
_process_id = os.getpid()


def _forget_process_wide_executor_after_fork() -> None:
    # The parent's worker thread does not exist here: an executor that still thinks
    # it has one would queue work forever. Ours is recreated on first use, also when
    # someone read it and assigned that same object back to the class.
    assigned = vars(SyncToAsync).get("single_thread_executor")
    if assigned is not None and assigned is _process_wide_executor.created():
        setattr(SyncToAsync, "single_thread_executor", _process_wide_executor)  # noqa: B010 - a descriptor, not the annotated type
    _process_wide_executor.forget_after_fork()
    global _process_id  # noqa: PLW0603 - one value per process
    _process_id = os.getpid()


_fork.after_fork_in_child(_forget_process_wide_executor_after_fork)


def _hop_submitted(
    call: SyncToAsync[Any, Any], executor: Executor | None, loop: object
) -> _observe.Hop:
    """Tell the observers of a sync_to_async call about to be queued on ``executor``."""
    thread_sensitive = call._thread_sensitive  # pyright: ignore[reportPrivateUsage]
    route: _observe.Route
    if not thread_sensitive:
        route = "default" if executor is None else "executor"
    elif isinstance(executor, CurrentThreadExecutor):
        route = "bridge"
    elif _thread_sensitive_context.get(None) is not None:
        route = "context"
    else:
        route = "process-wide"
    return _observe.submitted(
        _observe.observers,
        "sync_to_async",
        call.func,
        thread_sensitive=bool(thread_sensitive),
        route=route,
        lane=_observe.lane_of(executor),
        executor=executor,
        loop=loop,
    )


def _loop_hop_resumed(hop: _observe.Hop, call_result: Future[Any]) -> None:
    _observe.forget_in_main_wrap(call_result)
    error = _observe.current_error()
    if error is None and call_result.done():
        error = call_result.exception()
    _observe.resumed(hop, error)


def _bridge_has_quit(error: RuntimeError) -> bool:
    """True when submitting failed because every enclosing async_to_sync call has ended."""
    # The executor's own message (spec'd); the other RuntimeError it raises is a misuse.
    return str(error) == "CurrentThreadExecutor already quit or is broken"


def _submit(
    call: SyncToAsync[Any, Any],
    executor: Executor,
    hop: _observe.Hop | None,
    fn: Callable[..., _R],
    *args: Any,
) -> Future[_R]:
    """``executor.submit``, with __call__'s way out when the bridge it names has quit."""
    try:
        return executor.submit(fn, *args)
    except RuntimeError as exc:
        return _after_refused_submit(call, exc, executor, hop, fn, *args)


def _after_refused_submit(
    call: SyncToAsync[Any, Any],
    error: RuntimeError,
    executor: Executor,
    hop: _observe.Hop | None,
    fn: Callable[..., _R],
    *args: Any,
) -> Future[_R]:
    """``executor.submit`` raised ``error``: re-raise it, or run the call on a lane of its own.

    A task that outlived the async_to_sync call (and every enclosing one) whose
    thread would have run this gets a thread of its own; any other refusal is
    raised, with the cycle in its notes when the executor's thread is this one.
    """
    if not _bridge_has_quit(error):
        if _cycles.is_own_thread_refusal(error, executor):
            _cycles.describe_cycle(error, call.func)
        raise error
    lane = _orphan_lane(hop)
    work = lane.submit(fn, *args)
    lane.post(functools.partial(_state.tsc_lanes.checkin, lane))
    return work


def _is_process_wide(executor: Executor) -> bool:
    """True for the process-wide executor this package made (not one a user assigned)."""
    return executor is _process_wide_executor.created()


def _flagged_deadlock(call: SyncToAsync[Any, Any]) -> RuntimeError:
    """The published refusal when this context already has a process-wide call in flight."""
    executor = vars(SyncToAsync).get("single_thread_executor")  # reading it would create it
    return _cycles.flagged_error(call.func, _observe.lane_of(executor))


def _orphan_lane(hop: _observe.Hop | None) -> Worker:
    """A pooled lane for one call whose bridge has gone; it goes back once the call is done."""
    lane = _state.tsc_lanes.checkout()
    if hop is not None:
        hop.route, hop.lane, hop.executor = "orphan", lane.name, lane
    return lane


def _has_running_loop() -> bool:
    # The C-level check asyncio uses itself; get_running_loop() would raise instead.
    return _get_running_loop() is not None


class AsyncToSync(Generic[_P, _R]):
    """A sync wrapper running an async function to completion on an event loop.

    From a thread that is running a ``sync_to_async`` function, the coroutine
    runs on the loop awaiting that function; otherwise on an event loop of its
    own (a pooled loop thread reused between calls). Meanwhile the calling
    thread runs the thread-sensitive work sent back to it.
    """

    # Compatibility surface (see SyncToAsync).
    executors: ClassVar[Local] = _state.bridge_executors
    loop_thread_executors: ClassVar[dict[asyncio.AbstractEventLoop, CurrentThreadExecutor]] = (
        _state.loop_thread_executors
    )
    async_single_thread_context: ClassVar[contextvars.ContextVar[AsyncSingleThreadContext]] = (
        _state.async_single_thread_context
    )
    context_to_thread_executor: ClassVar[
        weakref.WeakKeyDictionary[AsyncSingleThreadContext, Worker]
    ] = _state.async_single_thread_runners

    awaitable: Callable[_P, Awaitable[_R]]
    force_new_loop: bool

    def __init__(
        self, awaitable: Callable[_P, Awaitable[_R]], force_new_loop: bool = False
    ) -> None:
        wrapped: object = awaitable  # callers pass anything; only warn
        if not callable(wrapped) or (
            not iscoroutinefunction(awaitable)
            and not iscoroutinefunction(getattr(awaitable, "__call__", awaitable))  # noqa: B004
        ):
            # Not an error: a plain function returning an awaitable still works.
            warnings.warn(
                "async_to_sync was passed a non-async-marked callable", UserWarning, stacklevel=2
            )
        # Name, docs and __wrapped__ only: the awaitable's __dict__ can hold a coroutine
        # marker (every SyncToAsync has one), which would make this sync wrapper report
        # as a coroutine function, or names that would hide this class's methods.
        functools.update_wrapper(self, awaitable, updated=())
        self.awaitable = awaitable
        bound_to = getattr(wrapped, "__self__", _UNBOUND)
        if bound_to is not _UNBOUND:
            self.__self__ = bound_to
        self.force_new_loop = force_new_loop

    def _parent_loop(self) -> asyncio.AbstractEventLoop | None:
        """The loop awaiting the sync function this thread runs, if calls should go there."""
        if self.force_new_loop:
            return None
        threadlocal = _threadlocal
        if getattr(threadlocal, "main_event_loop_pid", None) != _process_id:
            return None  # never ran a sync_to_async function, or a forked child
        loop: asyncio.AbstractEventLoop | None = getattr(threadlocal, "main_event_loop", None)
        owner = getattr(threadlocal, "bridge_of_main_loop", None)
        if loop is not None and owner is not None and _loop_thread_executors.get(loop) is not owner:
            # That loop belonged to a new-loop call that has ended. The published
            # asgiref closes such loops; ours is reused, so treat it as closed.
            return None
        if loop is not None and not loop.is_running():
            # Nobody awaits this thread's call any more (a fire-and-forget task whose
            # loop.run_until_complete returned): a callback scheduled there would wait
            # for the loop to run again, maybe forever, so run on a loop of our own.
            return None
        return loop

    def __call__(self, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        __traceback_hide__ = True  # read by Django's debug page
        # A trio run in this thread counts as a loop (asked only when asyncio has none).
        if _has_running_loop() or in_trio_run():
            raise RuntimeError(
                "You cannot use AsyncToSync in the same thread as an async event loop - "
                "just await the async function directly."
            )
        main_loop = self._parent_loop()
        old_executor: CurrentThreadExecutor | None = getattr(_bridge_executors, "current", None)
        current_executor = CurrentThreadExecutor(old_executor)
        _bridge_executors.current = current_executor
        task_context: list[asyncio.Task[Any]] | None = getattr(_threadlocal, "task_context", None)
        call_result: Future[_R] = Future()
        context = [contextvars.copy_context()]
        exc_info = sys.exc_info()
        hop: _observe.Hop | None = None
        if _observe.observers:  # the one check instrumentation costs when nobody listens
            hop = _observe.submitted(
                _observe.observers,
                "async_to_sync",
                self.awaitable,
                thread_sensitive=False,
                route="new-loop" if main_loop is None else "parent-loop",
                lane="new loop" if main_loop is None else "parent loop",
                loop=main_loop,
            )
            _observe.expect_in_main_wrap(call_result, hop)
        try:
            awaitable = self.awaitable(*args, **kwargs)
            main = self.main_wrap(call_result, exc_info, task_context, context, awaitable)
            if main_loop is not None:
                try:
                    main_loop.call_soon_threadsafe(main_loop.create_task, main)
                except RuntimeError:
                    main_loop = None  # closed: run on a loop of our own instead
                    if hop is not None:
                        hop.route, hop.lane = "new-loop", "new loop"
            if main_loop is not None:
                current_executor.run_until_future(call_result)
            else:
                self._run_on_own_loop(main, current_executor, context[0])
        finally:
            restore_context(context[0])
            claim_current_context()
            _bridge_executors.current = old_executor
            if hop is not None:
                _loop_hop_resumed(hop, call_result)
        return call_result.result()

    @staticmethod
    def _run_on_own_loop(
        main: Coroutine[Any, Any, None],
        current_executor: CurrentThreadExecutor,
        context: contextvars.Context,
    ) -> None:
        __traceback_hide__ = True  # read by Django's debug page
        single_thread = _async_single_thread_context.get(None)
        wrapped = _own_loop_main(main, current_executor)
        if single_thread is not None:
            done = run_call(loop_thread_for(single_thread), wrapped, context, release_to=None)
        else:
            # Handed back to the pool in its own thread, before this thread wakes up.
            done = run_call(loop_threads.checkout(), wrapped, context, release_to=loop_threads)
        current_executor.run_until_future(done)
        done.result()

    async def main_wrap(
        self,
        call_result: Future[_R],
        exc_info: _ExcInfo,
        task_context: list[asyncio.Task[Any]] | None,
        context: list[contextvars.Context] | None,
        awaitable: Awaitable[_R],
    ) -> None:
        """Runs as a task on the loop: await the coroutine and hand its outcome back."""
        __traceback_hide__ = True  # read by Django's debug page
        if context is not None:
            restore_context(context[0])
            claim_current_context()
        hop = _observe.claim_in_main_wrap(call_result) if _observe.pending_loop_hops else None
        # None in a trio run, where this runs as a system task (see _trio_bridge).
        loop = _get_running_loop()
        if hop is not None:
            _observe.started(hop, loop if loop is not None else hop.loop)
        current_task = None if loop is None else asyncio.current_task(loop)
        if task_context is not None and current_task is not None:
            task_context.append(current_task)
        outcome: BaseException | None = None
        result: Any = None
        try:
            if exc_info[1] is not None:
                try:
                    raise exc_info[1]
                except BaseException:  # noqa: BLE001 - re-creates the caller's except block
                    result = await awaitable
            else:
                result = await awaitable
        except BaseException as exc:  # noqa: BLE001 - every outcome goes to the caller
            outcome = exc
        if hop is not None:
            _observe.ended(hop, outcome)
        # Everything the caller reads is in place before it is woken.
        if task_context is not None and current_task is not None:
            task_context.remove(current_task)
        if context is not None:
            context[0] = contextvars.copy_context()
        if outcome is not None:
            call_result.set_exception(outcome)
        else:
            call_result.set_result(result)

    # Told apart as in SyncToAsync.__get__.
    @overload
    def __get__(
        self: Callable[Concatenate[_First, _BoundP], _R], parent: object, objtype: _First
    ) -> Callable[_BoundP, _R]: ...

    @overload
    def __get__(
        self: Callable[Concatenate[_First, _BoundP], _R], parent: _First, objtype: Any
    ) -> Callable[_BoundP, _R]: ...

    @overload
    def __get__(
        self: Callable[Concatenate[_First, _BoundP], _R], parent: None, objtype: type[_First]
    ) -> Callable[..., _R]: ...

    @overload
    def __get__(self, parent: object, objtype: Any) -> Callable[_P, _R]: ...

    def __get__(self, parent: Any, objtype: Any) -> Callable[..., _R]:
        bound = functools.partial(self.__call__, parent)
        return functools.update_wrapper(bound, self.awaitable)


async def _own_loop_main(
    main: Coroutine[Any, Any, None], current_executor: CurrentThreadExecutor
) -> None:
    """The main task of a new-loop call: register the loop with its bridge while it runs."""
    __traceback_hide__ = True  # read by Django's debug page
    loop = asyncio.get_running_loop()
    _loop_thread_executors[loop] = current_executor
    try:
        await main
    finally:
        del _loop_thread_executors[loop]


@overload
def sync_to_async(
    func: None = None,
    *,
    thread_sensitive: bool = True,
    executor: Executor | None = None,
    context: contextvars.Context | None = None,
) -> Callable[[Callable[_P, _R]], SyncToAsync[_P, _R]]: ...


@overload
def sync_to_async(
    func: Callable[_P, _R],
    *,
    thread_sensitive: bool = True,
    executor: Executor | None = None,
    context: contextvars.Context | None = None,
) -> SyncToAsync[_P, _R]: ...


def sync_to_async(
    func: Callable[_P, _R] | None = None,
    *,
    thread_sensitive: bool = True,
    executor: Executor | None = None,
    context: contextvars.Context | None = None,
) -> SyncToAsync[_P, _R] | Callable[[Callable[_P, _R]], SyncToAsync[_P, _R]]:
    """Wrap a sync function so it can be awaited; also a decorator, bare or with arguments."""
    if func is None:

        def decorator(f: Callable[_P, _R]) -> SyncToAsync[_P, _R]:
            return SyncToAsync(
                f, thread_sensitive=thread_sensitive, executor=executor, context=context
            )

        return decorator
    return SyncToAsync(func, thread_sensitive=thread_sensitive, executor=executor, context=context)


@overload
def async_to_sync(
    awaitable: None = None, *, force_new_loop: bool = False
) -> Callable[[Callable[_P, Awaitable[_R]]], AsyncToSync[_P, _R]]: ...


@overload
def async_to_sync(
    awaitable: Callable[_P, Awaitable[_R]], *, force_new_loop: bool = False
) -> AsyncToSync[_P, _R]: ...


def async_to_sync(
    awaitable: Callable[_P, Awaitable[_R]] | None = None, *, force_new_loop: bool = False
) -> AsyncToSync[_P, _R] | Callable[[Callable[_P, Awaitable[_R]]], AsyncToSync[_P, _R]]:
    """Wrap an async function so sync code can call it; usable as a decorator too."""
    if awaitable is None:

        def decorator(f: Callable[_P, Awaitable[_R]]) -> AsyncToSync[_P, _R]:
            return AsyncToSync(f, force_new_loop=force_new_loop)

        return decorator
    return AsyncToSync(awaitable, force_new_loop=force_new_loop)
