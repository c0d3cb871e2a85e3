"""Type aliases shared by the adapter's modules.

asgiref-wsgi depends on asgiref-sync only, so the ASGI types are spelled loosely here:
scopes and events are mappings, and ``send`` accepts anything so that callables typed with
``asgiref.typing``'s TypedDicts are accepted as they are.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

Scope = Mapping[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[Any]]

Environ = dict[str, Any]
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
OptExcInfo = ExcInfo | tuple[None, None, None]
Write = Callable[[bytes], None]
# The second parameter is Any so that applications annotated with wsgiref.types (or any
# other spelling of start_response) are accepted.
WSGIApplication = Callable[[Environ, Any], Iterable[bytes]]
