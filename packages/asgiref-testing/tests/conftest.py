from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    # ApplicationCommunicator is built on asyncio (Queue, Task, Task.cancelling), as the
    # published asgiref is, so every async test runs on asyncio only.
    return "asyncio"
