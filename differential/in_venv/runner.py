"""Interpret differential programs against whichever asgiref this interpreter imports.

Runs inside the venv under test (published asgiref 3.13.0, or our wheels) and imports only
public asgiref names, so the one script serves both sides. ``python runner.py serve`` reads
one JSON request per line on stdin (``{"programs": [...], "timeout": seconds}``) and answers
each with one JSON line ``{"traces": [...]}``: one trace per program, in order.

Each batch runs in a child forked from the server after asgiref is imported: the programs of
one batch share that child (state one leaves behind is what the next one may observe), while
batches stay independent of each other, which is what lets hypothesis shrink them. A program
that does not finish within the timeout gets the trace ``[{"ev": "hang"}]``, the child is
killed and the rest of the batch is reported as ``skipped``.

The program format is documented in differential/README.md; traces record only relative,
deterministic facts (no ids, addresses or timings).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import os
import re
import select
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.local import Local
from asgiref.sync import (
    AsyncSingleThreadContext,
    AsyncToSync,
    SyncToAsync,
    ThreadSensitiveContext,
    async_to_sync,
    sync_to_async,
)
from asgiref.testing import ApplicationCommunicator
from asgiref.wsgi import WsgiToAsgi

Step = dict[str, Any]
Event = dict[str, Any]

# The harness's own tests plant a difference through this variable (see tests/).
PLANT = os.environ.get("DIFFERENTIAL_PLANT", "")
# Generous bounds: a loaded 2-core machine must not turn a slow step into a difference.
THREAD_WAIT = 5.0
TIMER_WAIT = 2.0
# How long a cancelled sync function is held at its start before it goes on regardless.
RELEASE_WAIT = 2.0
WSGI_WAIT = 5.0
UNSET = "<unset>"


class ProgramError(Exception):
    """The exception type programs raise on purpose."""


RAISABLE: dict[str, type[Exception]] = {
    "ValueError": ValueError,
    "KeyError": KeyError,
    "ProgramError": ProgramError,
}

_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")


def normalise(text: str) -> str:
    """Drop what differs from run to run: object addresses."""
    return _ADDRESS.sub("0x?", text)


def type_name(exc: BaseException) -> str:
    kind = type(exc)
    if kind.__module__ == "builtins":
        return kind.__qualname__
    module = "runner" if kind.__module__ == "__main__" else kind.__module__
    return f"{module}.{kind.__qualname__}"


def describe(exc: BaseException) -> Event:
    out: Event = {"type": type_name(exc), "msg": normalise(str(exc))}
    if exc.__cause__ is not None:
        out["cause"] = type_name(exc.__cause__)
    return out


# --------------------------------------------------------------------------- program state


class Program:
    """Everything one program creates, so that its observations can be made relative."""

    def __init__(self) -> None:
        self.main = threading.main_thread()
        self.lock = threading.Lock()
        # Threads of the frames run so far, in order; None where the thread came from a pool
        # (thread_sensitive=False) and so may or may not be reused, which is not deterministic.
        self.frame_threads: list[threading.Thread | None] = []
        self.pool_threads: set[threading.Thread] = set()
        self.locals = [Local(), Local(thread_critical=True)]
        self.cvars: list[contextvars.ContextVar[int]] = [
            contextvars.ContextVar("differential_cv0"),
            contextvars.ContextVar("differential_cv1"),
        ]
        self.contexts: list[ThreadSensitiveContext] = []
        self.markers: list[object] = []
        self.executors: list[ThreadPoolExecutor] = []
        self.timers: list[Timer] = []
        # Which top-level async_to_sync call (from the main thread) is running, and which ended.
        self.active_top: int | None = None
        self.tops_done: list[bool] = []

    def thread_class(self, caller: threading.Thread | None, *, pooled: bool) -> str:
        """Where the current frame runs, relative to its caller, main and earlier frames."""
        here = threading.current_thread()
        with self.lock:
            if pooled:
                self.pool_threads.add(here)
            stable = here not in self.pool_threads
            if here is caller:
                found = "caller"
            elif here is self.main:
                found = "main"
            else:
                found = "new"
                for index, thread in enumerate(self.frame_threads):
                    if thread is here:
                        found = f"f{index}"
                        break
            self.frame_threads.append(here if stable else None)
            return found

    def marker_class(self, value: object) -> str:
        if value is None:
            return "none"
        for index, marker in enumerate(self.markers):
            if marker is value:
                return f"m{index}"
        return "foreign"

    def context_class(self, value: object) -> str:
        if value is None:
            return "none"
        for index, context in enumerate(self.contexts):
            if context is value:
                return f"c{index}"
        return "foreign"

    def close(self) -> None:
        for executor in self.executors:
            executor.shutdown(wait=False)


class Timer:
    """A loop.call_later(0.05) made inside a call; did it fire after that call returned?

    Only firing *after* the top-level async_to_sync call that scheduled it returned counts:
    firing during the call depends on how long the call took, which is timing, not behaviour.
    """

    def __init__(self, top: int | None) -> None:
        self.top = top
        self.fired_after_return: bool | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.handle: asyncio.TimerHandle | None = None

    def fire(self, program: Program) -> None:
        self.fired_after_return = self.top is not None and program.tops_done[self.top]

    def dead(self) -> bool:
        assert self.loop is not None
        assert self.handle is not None
        return self.loop.is_closed() or self.handle.cancelled()

    async def observe(self, program: Program) -> str:
        if self.top is None or not program.tops_done[self.top]:
            return "open"
        # The call has returned: the timer either cannot fire any more, or fires within 0.05 s
        # of its scheduling. Wait (boundedly) only in the second case.
        await wait_until(lambda: self.fired_after_return is not None or self.dead(), TIMER_WAIT)
        if self.fired_after_return:
            return "after"
        if self.fired_after_return is None and not self.dead():
            return "pending"
        return "no"


class Frame:
    """One sync or async body: where its events go and the contextvar tokens it set."""

    def __init__(self, program: Program, events: list[Event]) -> None:
        self.program = program
        self.events = events
        self.tokens: list[tuple[int, contextvars.Token[int]]] = []


def open_frame(
    program: Program, events: list[Event], caller: threading.Thread | None, *, pooled: bool
) -> Frame:
    index = len(program.frame_threads)
    thread = program.thread_class(caller, pooled=pooled)
    if PLANT == "thread" and pooled:
        thread = "planted"
    events.append({"ev": "frame", "n": index, "thread": thread})
    return Frame(program, events)


# --------------------------------------------------------------------------- steps in any frame


def local_step(frame: Frame, step: Step) -> Event:
    local = frame.program.locals[int(step["l"])]
    event: Event = {"ev": step["k"], "l": step["l"], "a": step["a"]}
    if step["k"] == "lset":
        setattr(local, step["a"], step["v"])
        event["v"] = step["v"]
    elif step["k"] == "lget":
        event["v"] = getattr(local, step["a"], UNSET)
        if PLANT == "lget" and frame_is_pooled(frame):
            event["v"] = "planted"
    else:
        try:
            delattr(local, step["a"])
            event["ok"] = True
        except AttributeError as exc:
            event["exc"] = describe(exc)
    return event


def frame_is_pooled(frame: Frame) -> bool:
    return threading.current_thread() in frame.program.pool_threads


def contextvar_step(frame: Frame, step: Step) -> Event:
    var = frame.program.cvars[int(step["c"])]
    event: Event = {"ev": step["k"], "c": step["c"]}
    if step["k"] == "cset":
        frame.tokens.append((step["c"], var.set(step["v"])))
        event["v"] = step["v"]
    elif step["k"] == "cget":
        event["v"] = var.get(UNSET)
    else:
        mine = [t for t in frame.tokens if t[0] == step["c"]]
        if not mine:
            event["skipped"] = True
            return event
        frame.tokens.remove(mine[-1])
        try:
            var.reset(mine[-1][1])
            event["ok"] = True
        except (ValueError, RuntimeError) as exc:
            event["exc"] = describe(exc)
    return event


def peek(frame: Frame) -> Event:
    program = frame.program
    return {
        "ev": "peek",
        "locals": [
            [getattr(local, attr, UNSET) for attr in ("a", "b")] for local in program.locals
        ],
        "cvars": [var.get(UNSET) for var in program.cvars],
        "tsctx": program.context_class(SyncToAsync.thread_sensitive_context.get(None)),
    }


def raise_step(step: Step) -> None:
    if PLANT == "hang" and step["m"] == "hang":
        threading.Event().wait()
    raise RAISABLE[step["t"]](step["m"])


def common_step(frame: Frame, step: Step) -> bool:
    """Run a step that means the same in sync and async frames; False if it is not one."""
    kind = step["k"]
    if kind in ("lset", "lget", "ldel"):
        frame.events.append(local_step(frame, step))
    elif kind in ("cset", "cget", "creset"):
        frame.events.append(contextvar_step(frame, step))
    elif kind == "peek":
        frame.events.append(peek(frame))
    elif kind == "raise":
        frame.events.append({"ev": "raise", "t": step["t"]})
        raise_step(step)
    else:
        return False
    return True


# --------------------------------------------------------------------------- sync frames


def run_sync_frame(
    program: Program,
    events: list[Event],
    caller: threading.Thread | None,
    steps: list[Step],
    *,
    pooled: bool,
) -> str:
    frame = open_frame(program, events, caller, pooled=pooled)
    run_sync_steps(frame, steps)
    return f"r{events[0]['n']}"


def run_sync_steps(frame: Frame, steps: list[Step]) -> None:
    for step in steps:
        if common_step(frame, step):
            continue
        kind = step["k"]
        if kind == "a2s":
            a2s_step(frame, step)
        elif kind == "astc":
            astc_step(frame, step)
        else:
            raise ValueError(f"unknown sync step {kind!r}")


def record_outcome(event: Event, step: Step, call: Callable[[], object]) -> None:
    try:
        event["ret"] = call()
    except BaseException as exc:
        event["exc"] = describe(exc)
        if step.get("reraise"):
            raise


async def record_outcome_async(
    event: Event, step: Step, call: Callable[[], Awaitable[object]]
) -> None:
    try:
        event["ret"] = await call()
    except BaseException as exc:
        event["exc"] = describe(exc)
        if step.get("reraise"):
            raise


def a2s_step(frame: Frame, step: Step) -> None:
    body: list[Event] = []
    event: Event = {"ev": "a2s", "fnl": step["fnl"], "body": body}
    frame.events.append(event)
    caller = threading.current_thread()

    async def coroutine() -> str:
        return await run_async_frame(frame.program, body, caller, step["body"])

    if step.get("cls"):
        bridge: Callable[[], str] = AsyncToSync(coroutine, force_new_loop=step["fnl"])
    else:
        bridge = async_to_sync(coroutine, force_new_loop=step["fnl"])
    program = frame.program
    top = caller is program.main and program.active_top is None
    if top:
        program.active_top = len(program.tops_done)
        program.tops_done.append(False)
    try:
        record_outcome(event, step, bridge)
    finally:
        if top:
            assert program.active_top is not None
            program.tops_done[program.active_top] = True
            program.active_top = None
    if step.get("peek"):
        frame.events.append(peek(frame))


def astc_step(frame: Frame, step: Step) -> None:
    body: list[Event] = []
    event: Event = {"ev": "astc", "body": body}
    frame.events.append(event)

    def enter() -> None:
        with AsyncSingleThreadContext():
            run_sync_steps(Frame(frame.program, body), step["body"])

    record_outcome(event, step, enter)


# --------------------------------------------------------------------------- async frames


async def run_async_frame(
    program: Program, events: list[Event], caller: threading.Thread, steps: list[Step]
) -> str:
    frame = open_frame(program, events, caller, pooled=False)
    await run_async_steps(frame, steps)
    return f"r{events[0]['n']}"


async def run_async_steps(frame: Frame, steps: list[Step]) -> None:
    for step in steps:
        if common_step(frame, step):
            continue
        kind = step["k"]
        handler = ASYNC_STEPS.get(kind)
        if handler is None:
            raise ValueError(f"unknown async step {kind!r}")
        await handler(frame, step)


async def s2a_step(frame: Frame, step: Step) -> None:
    body: list[Event] = []
    event: Event = {"ev": "s2a", "ts": step["ts"], "body": body}
    frame.events.append(event)
    caller = threading.current_thread()
    pooled = not step["ts"]

    def function() -> str:
        return run_sync_frame(frame.program, body, caller, step["body"], pooled=pooled)

    if step.get("cls"):
        bridge: Callable[[], Awaitable[str]] = SyncToAsync(function, thread_sensitive=step["ts"])
    else:
        bridge = sync_to_async(function, thread_sensitive=step["ts"])
    await record_outcome_async(event, step, bridge)
    if step.get("peek"):
        frame.events.append(peek(frame))


async def tsc_step(frame: Frame, step: Step) -> None:
    program = frame.program
    if step.get("reuse") is not None and program.contexts:
        index = step["reuse"] % len(program.contexts)
    else:
        program.contexts.append(ThreadSensitiveContext())
        index = len(program.contexts) - 1
    context = program.contexts[index]
    body: list[Event] = []
    event: Event = {"ev": "tsc", "c": index, "body": body}
    frame.events.append(event)

    async def enter() -> None:
        async with context:
            inner = Frame(program, body)
            inner.tokens = frame.tokens
            await run_async_steps(inner, step["body"])

    await record_outcome_async(event, step, enter)
    event["after"] = program.context_class(SyncToAsync.thread_sensitive_context.get(None))


async def sleep_step(frame: Frame, step: Step) -> None:
    await asyncio.sleep(0)
    frame.events.append({"ev": "sleep"})


async def misuse_step(frame: Frame, step: Step) -> None:
    event: Event = {"ev": "misuse"}
    frame.events.append(event)

    async def never_awaited() -> None:
        return None

    try:
        async_to_sync(never_awaited)()
        event["ret"] = None
    except RuntimeError as exc:
        event["exc"] = describe(exc)


async def cancel_step(frame: Frame, step: Step) -> None:
    """Cancel a task awaiting sync_to_async, before the task starts or while the function runs.

    "running" holds the function at its start until the cancellation has been delivered, so
    that which of the two comes first is never a race; only then does its body run.
    """
    program = frame.program
    started = threading.Event()
    go = threading.Event()
    finished = threading.Event()
    body: list[Event] = []
    event: Event = {"ev": "cancel", "when": step["when"], "ts": step["ts"], "body": body}
    frame.events.append(event)
    caller = threading.current_thread()
    pooled = not step["ts"]

    def function() -> str:
        started.set()
        try:
            # Published asgiref hands the cancellation to the awaiting task at once, while
            # this still waits: a side that waits for the function instead sees it return.
            go.wait(RELEASE_WAIT)
            return run_sync_frame(program, body, caller, step["body"], pooled=pooled)
        finally:
            finished.set()

    task = asyncio.ensure_future(sync_to_async(function, thread_sensitive=step["ts"])())
    if step["when"] == "running":
        await wait_until(started.is_set, THREAD_WAIT)
    task.cancel()
    try:
        event["ret"] = await asyncio.wait_for(asyncio.shield(task), THREAD_WAIT)
    except asyncio.CancelledError:
        event["outcome"] = "cancelled"
        if not task.done():
            # The cancellation reached this frame rather than the task: pass it on.
            raise
    except BaseException as exc:
        event["exc"] = describe(exc)
    go.set()
    # A task cancelled before its first step never calls sync_to_async: nothing to wait for.
    if step["when"] == "running":
        # The sync function still runs to its end in its thread: wait for it, boundedly.
        await wait_until(finished.is_set, THREAD_WAIT)
    event["started"] = started.is_set()
    event["finished"] = finished.is_set()


async def wait_until(condition: Callable[[], bool], limit: float) -> bool:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.002)
    return True


# Loop settings made in one call, observed by a later probe (in a later top-level call, too).


async def loop_step(frame: Frame, step: Step) -> None:
    program = frame.program
    loop = asyncio.get_running_loop()
    op = step["op"]
    index = len(program.markers)
    if op == "task_factory":

        def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
            return asyncio.Task(coro, loop=loop, **kwargs)

        program.markers.append(factory)
        loop.set_task_factory(factory)
    elif op == "exception_handler":

        def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            return None

        program.markers.append(handler)
        loop.set_exception_handler(handler)
    elif op == "debug":
        program.markers.append(None)
        loop.set_debug(True)
    elif op == "default_executor":
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"differential-m{index}")
        program.markers.append(executor)
        program.executors.append(executor)
        loop.set_default_executor(executor)
    elif op == "call_later":
        timer = Timer(program.active_top)
        program.markers.append(timer)
        timer.handle = loop.call_later(0.05, timer.fire, program)
        timer.loop = loop
        program.timers.append(timer)
    else:
        raise ValueError(f"unknown loop op {op!r}")
    frame.events.append({"ev": "loop", "op": op, "m": index})


async def probe_step(frame: Frame, step: Step) -> None:
    program = frame.program
    loop = asyncio.get_running_loop()
    event: Event = {
        "ev": "probe",
        "task_factory": program.marker_class(loop.get_task_factory()),
        "handler": program.marker_class(loop.get_exception_handler()),
        "debug": loop.get_debug(),
    }
    try:
        name = await asyncio.wait_for(
            loop.run_in_executor(None, lambda: threading.current_thread().name), THREAD_WAIT
        )
        match = re.match(r"differential-(m\d+)_", name)
        event["executor"] = match.group(1) if match else "default"
    except Exception as exc:
        event["executor"] = describe(exc)
    event["timers"] = [await timer.observe(program) for timer in program.timers]
    frame.events.append(event)


# WSGI requests through ApplicationCommunicator.


def wsgi_app(name: str) -> Callable[..., Iterable[bytes]]:
    def hello(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"hello"]

    def echo(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = environ["wsgi.input"].read()
        seen = {
            key: value
            for key, value in sorted(environ.items())
            if key.isupper() or key in ("wsgi.url_scheme", "wsgi.multithread", "wsgi.run_once")
        }
        start_response("201 Created", [("X-Len", str(len(body))), ("X-Dup", "1"), ("X-Dup", "2")])
        return [body, b"|", json.dumps(seen, sort_keys=True, default=repr).encode()]

    def chunks(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Length", "3")])
        yield b"a"
        yield b""
        yield b"bc"

    def write(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        writer = start_response("200 OK", [])
        writer(b"w1")
        return [b"r"]

    def error_before(
        environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        raise ProgramError("before start_response")

    def error_after(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b"x"
        raise ProgramError("after first chunk")

    def replaced(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("X-First", "1")])
        try:
            raise ProgramError("handled")
        except ProgramError:
            start_response("500 Internal Server Error", [("X-Second", "1")], sys.exc_info())
        return [b"oops"]

    def lines(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        stream = environ["wsgi.input"]
        got = [stream.readline(), stream.readline(2), stream.read(1)]
        start_response("200 OK", [])
        return [repr(got).encode()]

    apps: dict[str, Callable[..., Iterable[bytes]]] = {
        "hello": hello,
        "echo": echo,
        "chunks": chunks,
        "write": write,
        "error_before": error_before,
        "error_after": error_after,
        "replaced": replaced,
        "lines": lines,
    }
    return apps[name]


def plain(message: dict[str, Any]) -> Event:
    out: Event = {}
    for key, value in sorted(message.items()):
        if isinstance(value, bytes):
            out[key] = value.decode("latin-1")
        elif key == "headers":
            out[key] = [[bytes(n).decode("latin-1"), bytes(v).decode("latin-1")] for n, v in value]
        else:
            out[key] = value
    return out


async def wsgi_step(frame: Frame, step: Step) -> None:
    event: Event = {"ev": "wsgi", "app": step["app"]}
    frame.events.append(event)
    inner = WsgiToAsgi(wsgi_app(step["app"]))
    finished = asyncio.Event()

    async def application(scope: Any, receive: Any, send: Any) -> None:
        # Our own wrapper: it tells when the adapter is done without any private API.
        try:
            await inner(scope, receive, send)
            event["result"] = "returned"
        except BaseException as exc:
            event["result"] = describe(exc)
        finally:
            finished.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": step["method"],
        "scheme": "http",
        "path": step["path"],
        "raw_path": step["path"].encode(),
        "query_string": step["query"].encode(),
        "root_path": step["root"],
        "headers": [[n.encode(), v.encode()] for n, v in step["headers"]],
        "client": ["127.0.0.1", 5000],
        "server": ["testserver", 80],
    }
    communicator = ApplicationCommunicator(application, scope)
    if step["nothing_first"]:
        event["nothing_first"] = await communicator.receive_nothing()
    body: list[str] = [] if step["disconnect"] == "before" else step["body"]
    for index, chunk in enumerate(body):
        if step["disconnect"] == "mid" and index == 1:
            break
        more = index < len(body) - 1
        await communicator.send_input(
            {"type": "http.request", "body": chunk.encode(), "more_body": more}
        )
    if step["disconnect"] != "none":
        await communicator.send_input({"type": "http.disconnect"})
    messages: list[Event] = []
    event["out"] = messages
    deadline = time.monotonic() + WSGI_WAIT
    try:
        while True:
            if not await communicator.receive_nothing(timeout=0):
                messages.append(plain(await communicator.receive_output(timeout=THREAD_WAIT)))
            elif finished.is_set():
                break
            elif time.monotonic() > deadline:
                messages.append({"timeout": True})
                break
            else:
                await asyncio.sleep(0.002)
    except Exception as exc:
        messages.append({"exc": describe(exc)})
    finally:
        communicator.stop(exceptions=False)


ASYNC_STEPS: dict[str, Callable[[Frame, Step], Awaitable[None]]] = {
    "s2a": s2a_step,
    "tsc": tsc_step,
    "sleep": sleep_step,
    "misuse": misuse_step,
    "cancel": cancel_step,
    "loop": loop_step,
    "probe": probe_step,
    "wsgi": wsgi_step,
}


# --------------------------------------------------------------------------- programs and batches


def run_program(program: Step) -> list[Event]:
    state = Program()
    events: list[Event] = []
    try:
        run_sync_frame(state, events, None, program["steps"], pooled=False)
    except BaseException as exc:
        events.append({"ev": "escaped", "exc": describe(exc)})
    finally:
        state.close()
    return events


def run_batch_in_child(programs: list[Step], out_fd: int) -> None:
    with os.fdopen(out_fd, "w") as out:
        for program in programs:
            out.write(json.dumps(run_program(program)) + "\n")
            out.flush()


def run_batch(programs: list[Step], timeout: float) -> list[Any]:
    """Run one batch in a forked child; a program that overruns the timeout is a hang."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        # stdout carries the protocol: whatever a program prints goes to stderr instead.
        os.dup2(2, 1)
        code = 0
        try:
            run_batch_in_child(programs, write_fd)
        except BaseException:
            code = 1
        # Skip interpreter shutdown: a worker thread left blocked must not hold up the exit.
        os._exit(code)
    os.close(write_fd)
    traces: list[Any] = []
    buffer = b""
    deadline = time.monotonic() + timeout
    with os.fdopen(read_fd, "rb") as pipe:
        while len(traces) < len(programs):
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([pipe], [], [], max(remaining, 0))
            if not ready:
                traces.append([{"ev": "hang"}])
                os.kill(pid, signal.SIGKILL)
                break
            chunk = os.read(pipe.fileno(), 1 << 16)
            if not chunk:
                traces.append([{"ev": "crash"}])
                break
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                traces.append(json.loads(line))
                deadline = time.monotonic() + timeout
    os.waitpid(pid, 0)
    traces += [[{"ev": "skipped"}]] * (len(programs) - len(traces))
    return traces


def serve() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        traces = run_batch(request["programs"], float(request["timeout"]))
        sys.stdout.write(json.dumps({"traces": traces}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    if sys.argv[1:] == ["serve"]:
        serve()
    elif len(sys.argv) == 2:
        # One batch from a file, printed as one trace per line: handy to replay a report.
        with open(sys.argv[1]) as source:
            batch = json.load(source)
        for trace in run_batch(batch, 30.0):
            print(json.dumps(trace))
    else:
        sys.exit("usage: runner.py serve | runner.py BATCH.json")
