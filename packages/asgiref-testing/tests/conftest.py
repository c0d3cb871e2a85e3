from __future__ import annotations

import os

import pytest

# `nox -s against_published` runs these tests on asgiref 3.13.0 (ASGIREF_UNDER_TEST=published,
# with -m "not ours_only"). These modules test helpers only we have, so they cannot even be
# imported there; each maps to the DEVIATIONS.md entry that explains why it is ours only.
OURS_ONLY_MODULES: dict[str, str] = {
    "test_trio.py": "sync-trio",
    "test_http_tester.py": "testing-protocol-helpers",
    "test_lifespan_manager.py": "testing-protocol-helpers",
    "test_real_applications.py": "testing-protocol-helpers",
    "test_validation.py": "testing-protocol-helpers",
    "test_websocket_tester.py": "testing-protocol-helpers",
}
UNDER_PUBLISHED = os.environ.get("ASGIREF_UNDER_TEST") == "published"
collect_ignore = sorted(OURS_ONLY_MODULES) if UNDER_PUBLISHED else []


# Trio support is ours only: the published asgiref runs nothing under trio.
@pytest.fixture(params=["asyncio", pytest.param("trio", marks=pytest.mark.ours_only("sync-trio"))])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    # ApplicationCommunicator and its helpers work under asyncio and under trio:
    # every async test runs on both, except those that drive asyncio itself, which
    # pin "asyncio" with a parametrize mark saying why.
    return str(request.param)
