"""ASGI extensions the published asgiref does not model (not in ``asgiref.typing.__all__``).

The zero-copy send and early hints extensions add send events, and the TLS extension
(0.2) describes the dict a server places at ``scope["extensions"]["tls"]``. They are
importable from ``asgiref.typing`` for code written against this implementation; code
that must also run on the published asgiref should not import them. The functional
``TypedDict`` form is used for the reason given in ``_asgi``'s docstring.
"""

# ruff: noqa: UP013  (functional TypedDict form on purpose: see _asgi's docstring)

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import IO, Literal

if sys.version_info >= (3, 11):
    from typing import NotRequired, TypedDict
else:
    # typing.TypedDict on 3.10 does not know NotRequired: both must come from one place.
    from typing_extensions import NotRequired, TypedDict

# Absent offset/count mean "from the current file position" and "to the end of the file".
HTTPResponseZerocopysendEvent = TypedDict(
    "HTTPResponseZerocopysendEvent",
    {
        "type": Literal["http.response.zerocopysend"],
        "file": IO[bytes],
        "offset": NotRequired[int],
        "count": NotRequired[int],
        "more_body": NotRequired[bool],
    },
)

HTTPResponseEarlyHintEvent = TypedDict(
    "HTTPResponseEarlyHintEvent",
    {
        "type": Literal["http.response.early_hint"],
        "links": Iterable[bytes],
    },
)

TLSExtension = TypedDict(
    "TLSExtension",
    {
        "server_cert": str | None,
        "client_cert_chain": NotRequired[Iterable[str]],
        "client_cert_name": NotRequired[str | None],
        "client_cert_error": NotRequired[str | None],
        "tls_version": int | None,
        "cipher_suite": int | None,
    },
)
