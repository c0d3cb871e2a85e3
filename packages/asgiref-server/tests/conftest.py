from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    # StatelessServer is built on asyncio (asyncio.run, ensure_future, asyncio.Queue), as
    # the published asgiref is, so every async test runs on asyncio only.
    return "asyncio"
