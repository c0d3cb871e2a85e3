"""Which thread may see the ``Local`` data a context carries, and how the bridge moves it.

Every default-mode ``Local`` keeps its values in one module-level context
variable, as an immutable pair ``(owner, values_by_local)``. ``owner`` is a
per-thread marker: data written in one thread stays invisible in any other
thread that happens to run the same (or a copied) context, which is what keeps
``asyncio.to_thread`` workers and threads started inside a copied context
empty. The sync bridge is the one place that moves a context to another thread
on purpose; it calls :func:`claim_current_context` there, which re-tags the
whole state with the calling thread in O(1), however many ``Local`` objects
hold values.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from typing import Any

# A thread-local's per-thread ``__dict__`` is created on first use in a thread
# and lives as long as something refers to it, so (unlike thread idents, which
# the OS reuses as soon as a thread exits) it identifies one thread for good.
thread_marker = threading.local()

# Values of one Local in one context: attribute name -> value. Treated as
# immutable once published in a state; writers copy it.
LocalValues = dict[str, Any]

# (owner marker, {local: values}). Keys are the Local objects themselves so a
# read needs no attribute lookup on the Local; a Local therefore lives as long
# as some context still holds values for it, exactly like its data.
LocalState = tuple[dict[str, Any] | None, dict[object, LocalValues]]

# The default belongs to no thread, so a read needs no separate "unset" test.
NO_STATE: LocalState = (None, {})

local_state: ContextVar[LocalState] = ContextVar("asgiref.local.state", default=NO_STATE)


def claim_current_context() -> None:
    """Make the ``Local`` data of the current context visible in the calling thread.

    The sync bridge calls this in the destination thread, with the destination
    context current, each time it deliberately moves a context to another
    thread. From then on that data is visible here and no longer in the thread
    it came from (for this context only).
    """
    state = local_state.get()
    if state[1]:
        marker = thread_marker.__dict__
        if state[0] is not marker:
            local_state.set((marker, state[1]))
