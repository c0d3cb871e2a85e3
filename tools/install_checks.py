"""Checks run inside one install_matrix virtualenv (see ``nox -s install_matrix``).

Usage: ``python install_checks.py CASE [ARGS...]`` where CASE is one of
``types-only``, ``everything``, ``without-wsgi``, ``vendored``, ``from-site-packages``
(also used by ``nox -s tests``). Exits non-zero
with a message on the first failed check.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# Every documented import path and the names a caller may import from it
# (the spec's module map, ../shared/spec/00-overview.md).
DOCUMENTED = {
    "asgiref": ["__version__"],
    "asgiref.sync": [
        "sync_to_async",
        "async_to_sync",
        "SyncToAsync",
        "AsyncToSync",
        "ThreadSensitiveContext",
        "AsyncSingleThreadContext",
        "iscoroutinefunction",
        "markcoroutinefunction",
        "CurrentThreadExecutor",
        "Local",
    ],
    "asgiref.local": ["Local"],
    "asgiref.current_thread_executor": ["CurrentThreadExecutor"],
    "asgiref.timeout": ["timeout"],
    "asgiref.wsgi": ["WsgiToAsgi", "WsgiToAsgiInstance"],
    "asgiref.testing": ["ApplicationCommunicator"],
    "asgiref.server": ["StatelessServer", "logger"],
    "asgiref.compatibility": [
        "is_double_callable",
        "double_to_single_callable",
        "guarantee_single_callable",
    ],
    "asgiref.typing": ["HTTPScope", "ASGIApplication", "ASGI3Application", "Scope"],
}

# A user's file annotated with asgiref.typing: both checkers must accept it in strict mode,
# which they only do when they find the installed inline types (py.typed).
USER_APP = """\
from __future__ import annotations

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable, HTTPScope, Scope


async def app(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    if scope["type"] != "http":
        raise ValueError("only HTTP")
    http: HTTPScope = scope
    await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": False})
    await send({"type": "http.response.body", "body": http["path"].encode(), "more_body": False})
"""

# A wrong message type that must be reported: the proof that types are really used.
USER_BAD = """\
from __future__ import annotations

from asgiref.typing import HTTPResponseStartEvent

event: HTTPResponseStartEvent = {
    "type": "http.response.start", "status": "200", "headers": [], "trailers": False
}
"""


def fail(message: str) -> None:
    print(f"install_checks: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def ok(message: str) -> None:
    print(f"install_checks: ok: {message}")


def check_imports(expected_present: set[str], expected_missing: set[str]) -> None:
    for module in expected_present:
        mod = importlib.import_module(module)
        where = getattr(mod, "__file__", None) or str(list(getattr(mod, "__path__", [])))
        for name in DOCUMENTED[module]:
            if not hasattr(mod, name):
                fail(f"{module} has no attribute {name}")
        ok(f"import {module} ({where})")
    for module in expected_missing:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError:
            ok(f"import {module} raises ModuleNotFoundError")
        else:
            fail(f"import {module} worked but its distribution is not installed")


def run_checkers(workdir: Path, *, expect_clean: str, expect_error: str) -> None:
    """mypy --strict and pyright strict must pass one file and flag the other."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "user_app.py").write_text(USER_APP)
    (workdir / "user_bad.py").write_text(USER_BAD)
    (workdir / "pyrightconfig.json").write_text('{"typeCheckingMode": "strict"}')
    bindir = Path(sys.executable).parent
    mypy = [str(bindir / "mypy"), "--strict", "--no-incremental"]
    pyright = [
        str(bindir / "pyright"),
        "--pythonpath",
        sys.executable,
        "--project",
        str(workdir / "pyrightconfig.json"),
    ]
    for tool in (mypy, pyright):
        name = Path(tool[0]).name
        good = subprocess.run(
            [*tool, expect_clean], cwd=workdir, capture_output=True, text=True, check=False
        )
        if good.returncode != 0:
            fail(f"{name} rejects a correct user file:\n{good.stdout}{good.stderr}")
        bad = subprocess.run(
            [*tool, expect_error], cwd=workdir, capture_output=True, text=True, check=False
        )
        # mypy names the key, pyright the offending literal; either proves the check bit.
        if bad.returncode == 0 or not ("status" in bad.stdout or "'200'" in bad.stdout):
            fail(f"{name} accepted a wrong status type:\n{bad.stdout}{bad.stderr}")
        ok(f"{name} strict: accepts user_app.py, reports the wrong type in user_bad.py")


def check_version() -> None:
    import asgiref

    version = importlib.metadata.version("asgiref")
    if asgiref.__version__ != version:
        fail(f"asgiref.__version__ {asgiref.__version__!r} != installed {version!r}")
    ok(f"asgiref.__version__ == {version}")


def case_types_only(workdir: str) -> None:
    others = set(DOCUMENTED) - {"asgiref.typing", "asgiref"}
    check_imports({"asgiref.typing"}, others)
    run_checkers(Path(workdir), expect_clean="user_app.py", expect_error="user_bad.py")


def case_everything() -> None:
    check_imports(set(DOCUMENTED), set())
    check_version()


def case_without_wsgi(workdir: str) -> None:
    check_imports(set(DOCUMENTED) - {"asgiref.wsgi"}, {"asgiref.wsgi"})
    run_checkers(Path(workdir), expect_clean="user_app.py", expect_error="user_bad.py")


def case_vendored(packages: str, project: str) -> None:
    """Copy asgiref-sync's tree under another top-level name: relative imports keep it working."""
    root = Path(project)
    shutil.rmtree(root, ignore_errors=True)
    vendor = root / "myproject" / "_vendor" / "asgiref_copy"
    shutil.copytree(Path(packages) / "asgiref-sync" / "src" / "asgiref", vendor)
    for folder in (root / "myproject", root / "myproject" / "_vendor"):
        (folder / "__init__.py").write_text("")
    code = (
        "import asyncio, sys\n"
        "from myproject._vendor.asgiref_copy.sync import sync_to_async, async_to_sync\n"
        "from myproject._vendor.asgiref_copy.compatibility import guarantee_single_callable\n"
        "async def twice(x):\n"
        "    return await sync_to_async(lambda: x * 2)()\n"
        "assert async_to_sync(twice)(21) == 42\n"
        "assert not any(m == 'asgiref' or m.startswith('asgiref.') for m in sys.modules), "
        "sorted(m for m in sys.modules if m.startswith('asgiref'))\n"
        "print('vendored copy bridged 21 -> 42 without importing asgiref')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(root)}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tempfile.gettempdir(), env=env, check=False
    )
    if result.returncode != 0:
        fail("the vendored copy of asgiref-sync does not work")
    ok("vendored asgiref-sync works under another top-level name")


def case_from_site_packages(*modules: str) -> None:
    """Each module is imported from the environment's site-packages, not a source tree."""
    for name in modules:
        where = importlib.import_module(name).__file__ or ""
        if "site-packages" not in where or "/packages/" in where:
            fail(f"{name} is imported from {where}, not from the installed wheel")


def main() -> None:
    case, *args = sys.argv[1:]
    os.chdir(tempfile.gettempdir())  # never import a source tree by accident
    if case == "types-only":
        case_types_only(*args)
    elif case == "everything":
        case_everything()
    elif case == "without-wsgi":
        case_without_wsgi(*args)
    elif case == "vendored":
        case_vendored(*args)
    elif case == "from-site-packages":
        case_from_site_packages(*args)
    else:
        fail(f"unknown case {case!r}")


if __name__ == "__main__":
    main()
