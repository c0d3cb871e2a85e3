"""Every import path and public name of asgiref 3.13.0 (spec 00, "Module map") imports.

Each name is its own test case, so a missing one is reported by name. Private names
that asgiref's own test suite and downstream code import are listed too: they are part
of the contract (the spec's "Compatibility surface" sections).
"""

from __future__ import annotations

import importlib
import logging
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import asgiref
import pytest

TYPING_NAMES = (
    "ASGIVersions",
    "HTTPScope",
    "WebSocketScope",
    "LifespanScope",
    "WWWScope",
    "Scope",
    "HTTPRequestEvent",
    "HTTPResponseStartEvent",
    "HTTPResponseBodyEvent",
    "HTTPResponseTrailersEvent",
    "HTTPResponsePathsendEvent",
    "HTTPServerPushEvent",
    "HTTPDisconnectEvent",
    "WebSocketConnectEvent",
    "WebSocketAcceptEvent",
    "WebSocketReceiveEvent",
    "WebSocketSendEvent",
    "WebSocketResponseStartEvent",
    "WebSocketResponseBodyEvent",
    "WebSocketDisconnectEvent",
    "WebSocketCloseEvent",
    "LifespanStartupEvent",
    "LifespanShutdownEvent",
    "LifespanStartupCompleteEvent",
    "LifespanStartupFailedEvent",
    "LifespanShutdownCompleteEvent",
    "LifespanShutdownFailedEvent",
    "ASGIReceiveEvent",
    "ASGISendEvent",
    "ASGIReceiveCallable",
    "ASGISendCallable",
    "ASGI2Protocol",
    "ASGI2Application",
    "ASGI3Application",
    "ASGIApplication",
    "HTTPResponseDebugEvent",  # defined but not in __all__, as published
)

MODULE_MAP: dict[str, tuple[str, ...]] = {
    "asgiref": ("__version__",),
    "asgiref.sync": (
        "sync_to_async",
        "async_to_sync",
        "SyncToAsync",
        "AsyncToSync",
        "ThreadSensitiveContext",
        "AsyncSingleThreadContext",
        "iscoroutinefunction",
        "markcoroutinefunction",
        # Re-exported by a plain import in the published module; code imports them here.
        "CurrentThreadExecutor",
        "Local",
    ),
    "asgiref.local": (
        "Local",
        # Private, but asgiref's own tests check `type(Local()) is _DefaultLocal`.
        # (Its `_CVar`, `_Storage` and `_rehome` are storage internals of the published
        # design that no downstream project imports; ours stores differently and has none.)
        "_DefaultLocal",
        "_ThreadCriticalLocal",
    ),
    "asgiref.current_thread_executor": ("CurrentThreadExecutor",),
    "asgiref.timeout": ("timeout",),
    "asgiref.wsgi": ("WsgiToAsgi", "WsgiToAsgiInstance"),
    "asgiref.testing": ("ApplicationCommunicator",),
    "asgiref.server": ("StatelessServer", "logger"),
    "asgiref.compatibility": (
        "is_double_callable",
        "double_to_single_callable",
        "guarantee_single_callable",
    ),
    "asgiref.typing": TYPING_NAMES,
}

SUBMODULES = tuple(module for module in MODULE_MAP if module != "asgiref")

CASES = [(module, name) for module, names in MODULE_MAP.items() for name in names]


@pytest.mark.parametrize(("module", "name"), CASES, ids=[f"{m}.{n}" for m, n in CASES])
def test_documented_name_imports(module: str, name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from {module} import {name}", namespace)
    assert namespace[name] is getattr(importlib.import_module(module), name)


def test_sync_reexports_are_the_same_objects() -> None:
    from asgiref.current_thread_executor import CurrentThreadExecutor
    from asgiref.local import Local
    from asgiref.sync import CurrentThreadExecutor as SyncCurrentThreadExecutor
    from asgiref.sync import Local as SyncLocal

    assert SyncCurrentThreadExecutor is CurrentThreadExecutor
    assert SyncLocal is Local


def test_server_logger_is_the_named_module_logger() -> None:
    from asgiref.server import logger

    assert logger is logging.getLogger("asgiref.server")


@pytest.mark.parametrize("module", SUBMODULES)
def test_import_path_is_a_typed_subpackage(module: str) -> None:
    # PEP 561 does not cover single-file modules in a namespace package, so each import
    # path is a package of its own with its own py.typed marker.
    imported = importlib.import_module(module)
    assert hasattr(imported, "__path__"), f"{module} should be a package"
    assert files(module).joinpath("py.typed").is_file()


def test_meta_package_ships_py_typed() -> None:
    assert files("asgiref").joinpath("py.typed").is_file()


@pytest.mark.parametrize("module", SUBMODULES)
def test_portion_is_found_through_asgiref_path(module: str) -> None:
    # Holds for a regular install (one site-packages directory) and for the editable
    # development install (one src/ directory per distribution, gathered into
    # asgiref.__path__ by the meta-package's __init__).
    imported = importlib.import_module(module)
    assert imported.__file__ is not None
    package_dir = Path(imported.__file__).resolve().parent.parent
    assert package_dir in {Path(entry).resolve() for entry in asgiref.__path__}


def test_meta_package_directory_is_on_its_path() -> None:
    assert asgiref.__file__ is not None
    own_dir = Path(asgiref.__file__).resolve().parent
    assert own_dir in {Path(entry).resolve() for entry in asgiref.__path__}


def test_unknown_submodule_raises_module_not_found() -> None:
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("asgiref.no_such_module")


def test_portions_import_in_a_fresh_interpreter(tmp_path: Path) -> None:
    # Directly, without importing anything else first, and from a neutral directory.
    probe = "; ".join(f"import {module}" for module in SUBMODULES) + "; print('ok')"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
