from __future__ import annotations

import pytest


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    # The bridge works under asyncio and under trio: every async test runs on both,
    # except those that drive asyncio itself (tasks, loops, asyncio.timeout), which
    # pin "asyncio" with a module fixture or a parametrize mark saying why.
    return str(request.param)
