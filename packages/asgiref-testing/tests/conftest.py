from __future__ import annotations

import pytest


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    # ApplicationCommunicator and its helpers work under asyncio and under trio:
    # every async test runs on both, except those that drive asyncio itself, which
    # pin "asyncio" with a parametrize mark saying why.
    return str(request.param)
