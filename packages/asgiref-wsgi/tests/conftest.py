from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    # WsgiToAsgi crosses between worker threads and the asyncio event loop it is called
    # on (as the published asgiref does); trio is not a supported host for it.
    return "asyncio"
