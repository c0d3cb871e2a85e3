"""Is a trio run active in the calling thread? Answered without importing trio.

A process that never imported trio cannot be inside a trio run, so the
question costs nothing until trio is imported: :func:`when_trio_imported`
tells interested modules the moment that happens (an import-system hook), and
they switch from their asyncio-only check to one that
also asks trio. ``Local``'s thread-critical reads in plain sync code are the
reason: they are a few tens of nanoseconds, and a per-read "was trio ever
imported?" lookup was a measurable share of that.
"""

from __future__ import annotations

import sys
import threading

# The C-level check asyncio itself uses; get_running_loop() would raise instead.
from asyncio.events import _get_running_loop  # pyright: ignore[reportPrivateUsage]
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec
    from types import ModuleType

_modules = sys.modules


def in_trio_run() -> bool:
    """True when the calling thread is inside ``trio.run`` (a task or a run callback)."""
    slot = _sniffio_slot or _find_sniffio_slot()
    # trio.run names itself in sniffio's per-thread slot for as long as it runs
    # (guest mode: while it steps). Reading the slot costs a small fraction of
    # trio.lowlevel.in_trio_run() outside a run, where trio's answer is a
    # caught AttributeError; only a "trio" there needs trio's own answer.
    if slot is not None and slot.name != "trio":
        return False
    trio = _modules.get("trio")
    if trio is None:
        return False
    try:
        return bool(trio.lowlevel.in_trio_run())
    except AttributeError:  # trio partly imported (this thread is importing it), or < 0.23
        return False


def running_loop_or_trio_run() -> object:
    """The running asyncio loop, else ``True`` inside a trio run, else ``None``.

    What callers switch to once trio is imported; the sniffio slot is read
    here rather than through :func:`in_trio_run` because a plain-sync
    thread-critical ``Local`` read pays for every call level.
    """
    loop = _get_running_loop()
    if loop is None:
        slot = _sniffio_slot
        if (slot is None or slot.name == "trio") and in_trio_run():
            return True
    return loop


# sniffio.thread_local (public sniffio API, a threading.local whose ``name``
# defaults to None), once sniffio is imported; trio depends on it.
_sniffio_slot: Any = None


def _find_sniffio_slot() -> Any:
    global _sniffio_slot  # noqa: PLW0603 - a cache filled once
    sniffio = _modules.get("sniffio")
    _sniffio_slot = getattr(sniffio, "thread_local", None)
    return _sniffio_slot


_callbacks: list[Callable[[], None]] = []
_callbacks_lock = threading.Lock()


class _TrioImportWatch:
    """Sits first on ``sys.meta_path`` until ``trio`` is imported, finding nothing.

    It is asked only about modules not imported yet, and answers ``None`` so
    the real finders go on as usual; on ``trio`` it runs the callbacks, which
    only rebind a few module globals. It then stays, inert: importlib iterates
    ``sys.meta_path`` itself while asking, so removing an entry from inside
    ``find_spec`` would make it skip the next finder. (A finder is anything
    with ``find_spec``: subclassing importlib.abc's would import more than
    this module is worth.)
    """

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if fullname == "trio":
            _trio_arrived()
        return None


_watch = _TrioImportWatch()


def _trio_arrived() -> None:
    with _callbacks_lock:
        arrived = list(_callbacks)
        _callbacks.clear()
    for callback in arrived:
        callback()


def when_trio_imported(callback: Callable[[], None]) -> None:
    """Call ``callback`` once trio is imported: now if it already is, else at its import.

    Called before trio's own code runs, so nothing trio-related may run in it;
    a trio run cannot start before the import completes, so switching then is
    in time for every access made inside one.
    """
    with _callbacks_lock:
        if "trio" not in _modules:
            _callbacks.append(callback)
            if _watch not in sys.meta_path:
                sys.meta_path.insert(0, _watch)
            return
    callback()
