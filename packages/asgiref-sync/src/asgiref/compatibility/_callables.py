"""Telling ASGI 2 applications from ASGI 3 ones, and adapting the former."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from ..sync._coroutines import iscoroutinefunction

# Typed loosely on purpose: this module must accept whatever a server is handed
# (an ASGI 2 class, an ASGI 3 coroutine function, an instance with __call__)
# and cannot depend on asgiref-types.
_Application = Callable[..., Any]


class _SingleCallable(Protocol):
    """An ASGI 3 application; servers call it positionally or with these keywords."""

    def __call__(self, scope: Any, receive: Any, send: Any) -> Awaitable[Any]: ...


def is_double_callable(application: object) -> bool:
    """Return True when ``application`` looks like an ASGI 2 (double-callable) app."""
    if getattr(application, "_asgi_single_callable", False):
        return False
    if getattr(application, "_asgi_double_callable", False):
        return True
    # A class is assumed to be ASGI 2: constructing it with the scope gives the
    # instance that is then awaited with (receive, send).
    if inspect.isclass(application):
        return True
    call = getattr(application, "__call__", None)  # noqa: B004 - we need the attribute itself
    if call is not None and iscoroutinefunction(call):
        return False
    return not iscoroutinefunction(application)


def double_to_single_callable(application: _Application) -> _SingleCallable:
    """Wrap an ASGI 2 application so it can be called the ASGI 3 way."""

    async def new_application(scope: Any, receive: Any, send: Any) -> Any:
        instance = application(scope)
        return await instance(receive, send)

    return new_application


def guarantee_single_callable(application: _Application) -> _SingleCallable:
    """Return ``application`` as an ASGI 3 single callable, adapting it if needed."""
    if is_double_callable(application):
        return double_to_single_callable(application)
    single: _SingleCallable = application
    return single
