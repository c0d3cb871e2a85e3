from __future__ import annotations

import os

import pytest

# `nox -s against_published` runs these tests on asgiref 3.13.0 (ASGIREF_UNDER_TEST=published,
# with -m "not ours_only"). Modules here import private modules of ours, so they cannot even
# be imported there; each maps to the DEVIATIONS.md entry that explains why it is ours only.
OURS_ONLY_MODULES: dict[str, str] = {
    "test_trio.py": "sync-trio",
    "test_sync_stress.py": "sync-idle-threads-retire",
    "test_diagnostics.py": "sync-observe",
    "test_observe.py": "sync-observe",
    "test_observe_otel.py": "sync-observe",
    "test_loop_thread.py": "sync-loop-thread",
}
UNDER_PUBLISHED = os.environ.get("ASGIREF_UNDER_TEST") == "published"
collect_ignore = sorted(OURS_ONLY_MODULES) if UNDER_PUBLISHED else []


# Trio support is ours only: the published asgiref runs nothing under trio.
@pytest.fixture(params=["asyncio", pytest.param("trio", marks=pytest.mark.ours_only("sync-trio"))])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    # The bridge works under asyncio and under trio: every async test runs on both,
    # except those that drive asyncio itself (tasks, loops, asyncio.timeout), which
    # pin "asyncio" with a module fixture or a parametrize mark saying why.
    return str(request.param)
