"""Copying context variables back from a context that ran somewhere else."""

from __future__ import annotations

from contextvars import Context

_UNSET = object()


def restore_context(context: Context) -> None:
    """Set in the current context every variable of ``context`` whose value differs.

    Values are compared by identity, never with ``==`` (which could run user
    code and would keep an equal but distinct old object). A variable missing
    here is set; a variable ``context`` lacks is left alone.
    """
    for variable, value in context.items():
        if variable.get(_UNSET) is not value:
            variable.set(value)
