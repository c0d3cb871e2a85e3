from __future__ import annotations

import os

import pytest

# `nox -s against_published` runs these tests on asgiref 3.13.0 (ASGIREF_UNDER_TEST=published,
# with -m "not ours_only"). Modules here import private modules of ours, so they cannot even
# be imported there; each maps to the DEVIATIONS.md entry that explains why it is ours only.
OURS_ONLY_MODULES: dict[str, str] = {
    "test_hypercorn_trio.py": "sync-trio",
    "test_trio_cancellation.py": "sync-trio",
    "test_asgi_to_wsgi.py": "wsgi-asgi-to-wsgi",
    "test_asgi_to_wsgi_servers.py": "wsgi-asgi-to-wsgi",
}
UNDER_PUBLISHED = os.environ.get("ASGIREF_UNDER_TEST") == "published"
collect_ignore = sorted(OURS_ONLY_MODULES) if UNDER_PUBLISHED else []


# Trio support is ours only: the published asgiref runs nothing under trio.
@pytest.fixture(params=["asyncio", pytest.param("trio", marks=pytest.mark.ours_only("sync-trio"))])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    # WsgiToAsgi work under asyncio and under trio: every async test runs on
    # both, except those that drive asyncio itself, which pin "asyncio" with a
    # parametrize mark saying why.
    return str(request.param)
