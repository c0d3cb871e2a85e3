"""``Local``: attribute storage that is private to a thread and to an asyncio task.

Reads are the hot path (Django reads its translation, time zone and URL state
from ``Local`` objects many times per request), so each concrete class defines
``__getattribute__`` and answers a hit with a couple of C-level lookups: no
lock, no exception, no attribute lookup on the ``Local`` itself. Writes never
mutate a published mapping; they install a fresh copy in the current context,
so contexts copied earlier (child tasks, bridge hops) keep what they saw.
"""

from __future__ import annotations

import threading
import weakref

# The C-level check asyncio itself uses; get_running_loop() would raise instead.
from asyncio.events import _get_running_loop  # pyright: ignore[reportPrivateUsage]
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, final

from ._ownership import LocalValues, local_state, thread_marker
from ._trio_run import running_loop_or_trio_run, when_trio_imported

_object_getattribute = object.__getattribute__
# Bound once: these run on every attribute access.
_get_state = local_state.get
_set_state = local_state.set


def _missing(local: object, name: str) -> AttributeError:
    # Misses are common (``getattr(local, "value", None)`` is how Django asks
    # whether a translation is active), so the message is built directly
    # rather than through object.__repr__, and name/obj are assigned rather
    # than parsed as keyword arguments.
    cls = type(local)
    error = AttributeError(
        f"<{cls.__module__}.{cls.__qualname__} object at {hex(id(local))}>"
        f" object has no attribute {name!r}"
    )
    error.name = name
    error.obj = local
    return error


def _cannot_set_data() -> AttributeError:
    return AttributeError("Cannot set attribute '_data' on Local")


def _fallback(local: object, name: str, class_names: frozenset[str]) -> Any:
    """Resolve ``name`` the ordinary way (``__class__``, methods...) or fail like a miss.

    ``class_names`` is everything the concrete class defines or inherits; any
    other name cannot resolve, so it fails without a first, discarded lookup.
    """
    if name in class_names:
        return _object_getattribute(local, name)
    raise _missing(local, name)


@final
class Local:
    """A namespace whose attributes are private to a thread and to an asyncio task.

    ``Local()`` values follow work across ``sync_to_async``/``async_to_sync``
    hops; ``Local(thread_critical=True)`` values never leave the thread that
    wrote them. Instances are of a private subclass per mode, and ``Local``
    itself cannot be subclassed.
    """

    __slots__ = ("__weakref__",)

    def __new__(cls, thread_critical: bool = False) -> Local:
        if cls is not Local:
            raise TypeError("asgiref.local.Local cannot be subclassed")
        concrete = _ThreadCriticalLocal if thread_critical else _DefaultLocal
        return object.__new__(concrete)

    def __init__(self, thread_critical: bool = False) -> None:
        pass

    if TYPE_CHECKING:
        # Attribute access is the whole API: let type checkers accept any name.
        def __getattr__(self, name: str) -> Any: ...
        def __setattr__(self, name: str, value: Any) -> None: ...
        def __delattr__(self, name: str) -> None: ...


class _DefaultLocal(Local):  # type: ignore[misc]  # Local is final to users; its own concrete classes are the exception
    """Context-local storage that follows the sync bridge (``Local()``)."""

    __slots__ = ()

    def __getattribute__(self, name: str) -> Any:
        state = _get_state()
        if state[0] is thread_marker.__dict__:
            try:
                return state[1][self][name]
            except KeyError:
                pass
        return _fallback(self, name, _DEFAULT_CLASS_NAMES)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "_data":
            raise _cannot_set_data()
        marker = thread_marker.__dict__
        state = _get_state()
        if state[0] is not marker:
            # Nothing here is visible to this thread: start afresh rather than
            # carry another thread's data along.
            _set_state((marker, {self: {name: value}}))
            return
        by_local = state[1].copy()
        values = by_local.get(self)
        if values is None:
            by_local[self] = {name: value}
        else:
            values = values.copy()
            values[name] = value
            by_local[self] = values
        _set_state((marker, by_local))

    def __delattr__(self, name: str) -> None:
        state = _get_state()
        values = state[1].get(self)
        if values is None or name not in values or state[0] is not thread_marker.__dict__:
            raise _missing(self, name)
        by_local = state[1].copy()
        if len(values) == 1:
            del by_local[self]
        else:
            values = values.copy()
            del values[name]
            by_local[self] = values
        _set_state((state[0], by_local))


# Per thread, the context variable holding thread-critical values while a loop
# runs there: one variable per thread makes the data per-thread *and*
# per-context. Tasks of one loop are isolated like default-mode values, yet a
# context that reaches another thread (a bridge hop) carries nothing visible
# there, and comes back with this thread's values intact. Kept as an attribute
# of a plain threading.local because that is the cheapest per-thread lookup.
_critical_vars = threading.local()
_NO_VALUES: dict[object, LocalValues] = {}


def _critical_var() -> ContextVar[dict[object, LocalValues]]:
    """This thread's variable, created on first use in the thread."""
    try:
        var: ContextVar[dict[object, LocalValues]] = _critical_vars.var
    except AttributeError:
        name = f"asgiref.local.critical[{threading.current_thread().name}]"
        var = _critical_vars.var = ContextVar(name, default=_NO_VALUES)
    return var


# What thread-critical storage asks first: is a loop (or a trio run) running
# here? Until trio is imported no trio run can exist, so the answer is
# asyncio's C-level check, unwrapped; the import rebinds this global to the
# slower question that also asks trio. Plain-sync and asyncio code in a
# process without trio pay nothing for trio support.
_loop_or_trio_run: Callable[[], object] = _get_running_loop


def _trio_imported() -> None:
    global _loop_or_trio_run  # noqa: PLW0603 - the rebinding is the mechanism
    _loop_or_trio_run = running_loop_or_trio_run


when_trio_imported(_trio_imported)


class _ThreadCriticalLocal(Local):  # type: ignore[misc]  # see _DefaultLocal
    """Storage that never leaves its thread (``Local(thread_critical=True)``).

    Without a running event loop it is exactly a ``threading.local``; with one
    (an asyncio loop or a trio run), values are also private to the task that
    wrote them.
    """

    __slots__ = ("_namespace",)
    _namespace: threading.local

    def __init__(self, thread_critical: bool = True) -> None:
        object.__setattr__(self, "_namespace", threading.local())
        _critical_locals.add(self)

    def __getattribute__(self, name: str) -> Any:
        if _loop_or_trio_run() is None:
            try:
                return _namespace_of(self).__dict__[name]
            except KeyError:
                pass
            if name in _CRITICAL_CLASS_NAMES:
                return _object_getattribute(self, name)
            raise _thread_local_missing(self, name)
        try:
            # AttributeError: no thread-critical value was ever set in this thread.
            return _critical_vars.var.get()[self][name]
        except (KeyError, AttributeError):
            pass
        return _fallback(self, name, _CRITICAL_CLASS_NAMES)

    def __setattr__(self, name: str, value: Any) -> None:
        if _loop_or_trio_run() is None:
            _namespace_of(self).__dict__[name] = value
            return
        if name == "_data":
            raise _cannot_set_data()
        var = _critical_var()
        by_local = var.get().copy()
        values = by_local.get(self)
        if values is None:
            by_local[self] = {name: value}
        else:
            values = values.copy()
            values[name] = value
            by_local[self] = values
        var.set(by_local)

    def __delattr__(self, name: str) -> None:
        if _loop_or_trio_run() is None:
            namespace = _namespace_of(self).__dict__
            if name not in namespace:
                raise _thread_local_missing(self, name)
            del namespace[name]
            return
        var = _critical_var()
        by_local = var.get()
        values = by_local.get(self)
        if values is None or name not in values:
            raise _missing(self, name)
        by_local = by_local.copy()
        if len(values) == 1:
            del by_local[self]
        else:
            values = values.copy()
            del values[name]
            by_local[self] = values
        var.set(by_local)


# Every live thread-critical Local, so a pooled thread can be emptied of their values.
_critical_locals: weakref.WeakSet[_ThreadCriticalLocal] = weakref.WeakSet()


def forget_thread_values() -> None:
    """Drop every thread-critical value the calling thread holds, as if it had just started.

    The bridge calls this in a pooled thread before handing it to its next
    user: a reused thread must look like the new thread the published asgiref
    would have started. Default-mode values live in contexts, not threads.
    """
    _critical_vars.__dict__.clear()
    for local in list(_critical_locals):
        _namespace_of(local).__dict__.clear()


_DEFAULT_CLASS_NAMES = frozenset(dir(_DefaultLocal))
_CRITICAL_CLASS_NAMES = frozenset(dir(_ThreadCriticalLocal))

# The slot is read through its descriptor: going through ``self._namespace``
# would re-enter ``__getattribute__``.
_namespace_of = _ThreadCriticalLocal.__dict__["_namespace"].__get__


def _thread_local_missing(local: _ThreadCriticalLocal, name: str) -> AttributeError:
    # Without a loop the storage *is* a threading.local; fail the way it does.
    error = AttributeError(f"'_thread._local' object has no attribute {name!r}")
    error.name = name
    error.obj = _namespace_of(local)
    return error


# Public-in-package names for the facade (asgiref's tests import the
# underscored names from ``asgiref.local``).
DefaultLocal = _DefaultLocal
ThreadCriticalLocal = _ThreadCriticalLocal
