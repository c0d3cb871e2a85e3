from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    # asgiref's bridge is built on asyncio event loops and threads; trio is not
    # supported by the code under test, so every async test runs on asyncio.
    return "asyncio"
