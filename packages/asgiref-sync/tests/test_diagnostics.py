"""asgiref.sync.diagnose: slow-lane warnings, the state dump, the env switch, the signal."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import anyio
import anyio.to_thread
import pytest
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from asgiref.sync.diagnose import (
    END_OF_DUMP,
    diagnostics_enabled,
    disable_diagnostics,
    dump_bridge_state,
    enable_diagnostics,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def diagnostics() -> Iterator[None]:
    enable_diagnostics(threshold=0.05)
    try:
        yield
    finally:
        disable_diagnostics()


class _WarningSeen(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen = threading.Event()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        self.seen.set()


def stuck_view(entered: threading.Event, release: threading.Event) -> None:
    entered.set()
    release.wait(20)


def quick_query() -> int:
    return 1


@pytest.mark.usefixtures("diagnostics")
async def test_a_thread_sensitive_call_waiting_for_its_lane_is_reported_with_the_holder() -> None:
    handler = _WarningSeen()
    logger = logging.getLogger("asgiref.sync")
    logger.addHandler(handler)
    entered, release = threading.Event(), threading.Event()
    answers: list[int] = []
    dump = ""

    async def query() -> None:
        answers.append(await sync_to_async(quick_query)())

    try:
        with anyio.fail_after(30):
            async with ThreadSensitiveContext(), anyio.create_task_group() as group:
                group.start_soon(sync_to_async(stuck_view), entered, release)
                assert await anyio.to_thread.run_sync(entered.wait, 10)
                group.start_soon(query)
                assert await anyio.to_thread.run_sync(handler.seen.wait, 10)
                dump = dump_bridge_state()
                release.set()
        assert answers == [1]
    finally:
        release.set()
        logger.removeHandler(handler)
    (message,) = [m for m in handler.messages if "quick_query" in m]
    assert "thread-sensitive call" in message
    assert "held by #" in message
    assert "sync_to_async(stuck_view)" in message
    assert "release.wait(20)" in message  # the holder's stack
    # The dump names both calls and who waits on whom.
    assert "diagnostics mode is on" in dump
    assert "sync_to_async(stuck_view)" in dump
    assert "running" in dump
    assert "queued" in dump
    assert "waits for #" in dump
    assert dump.rstrip().endswith(END_OF_DUMP)


def test_the_switch() -> None:
    assert not diagnostics_enabled()
    enable_diagnostics(1.0)
    enable_diagnostics(2.0)  # changes the threshold
    assert diagnostics_enabled()
    disable_diagnostics()
    disable_diagnostics()  # a no-op when off
    assert not diagnostics_enabled()


@pytest.mark.parametrize("threshold", [0, -1, "5", True])
def test_bad_thresholds_are_refused(threshold: object) -> None:
    with pytest.raises(ValueError, match="positive number of seconds"):
        enable_diagnostics(threshold)  # type: ignore[arg-type]  # the point of the test
    assert not diagnostics_enabled()


def test_dump_when_off_says_so_and_writes_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "dump.txt"
    with target.open("w") as file:
        text = dump_bridge_state(file)
    assert "diagnostics mode is off" in text
    assert "MainThread" in text
    assert target.read_text() == text


def test_the_environment_variable_turns_diagnostics_on() -> None:
    code = (
        "from asgiref.sync.diagnose import diagnostics_enabled, dump_bridge_state\n"
        "import threading\n"
        "assert diagnostics_enabled()\n"
        "assert 'threshold 1.5s' in dump_bridge_state()\n"
        "assert not [t for t in threading.enumerate() if t.name == 'asgiref-diagnostics']\n"
    )
    env = {**os.environ, "ASGIREF_DIAGNOSTICS": "1", "ASGIREF_DIAGNOSTICS_THRESHOLD": "1.5"}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    env["ASGIREF_DIAGNOSTICS"] = "0"
    off = "from asgiref.sync.diagnose import diagnostics_enabled\nassert not diagnostics_enabled()"
    subprocess.run([sys.executable, "-c", off], env=env, check=True, timeout=60)


HANGING_SCRIPT = """
import asyncio, threading
from asgiref.sync import ThreadSensitiveContext, sync_to_async

never = threading.Event()
entered = threading.Event()

def stuck_view():
    entered.set()
    never.wait()  # deliberately never set: the process hangs here

def second_query():
    return 1

async def main():
    async with ThreadSensitiveContext():
        asyncio.ensure_future(sync_to_async(stuck_view)())
        second = asyncio.ensure_future(sync_to_async(second_query)())
        await asyncio.sleep(0)  # both submitted
        await asyncio.get_running_loop().run_in_executor(None, entered.wait)
        print("ready", flush=True)
        await second

asyncio.run(main())
"""


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="needs SIGUSR1")
def test_a_hung_process_dumps_its_state_on_a_signal(tmp_path: Path) -> None:
    script = tmp_path / "hangs.py"
    script.write_text(textwrap.dedent(HANGING_SCRIPT))
    lines: list[str] = []
    with subprocess.Popen(
        [sys.executable, "-m", "asgiref.sync.diagnose", "--threshold", "30", str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            assert process.stderr is not None
            assert process.stdout.readline().strip() == "ready"
            # Ask through the command line, as one would for a stuck server.
            subprocess.run(
                [sys.executable, "-m", "asgiref.sync.diagnose", "--pid", str(process.pid)],
                check=True,
                timeout=60,
            )
            for line in process.stderr:
                lines.append(line)
                if line.strip() == END_OF_DUMP:
                    break
        finally:
            process.kill()
            process.wait(timeout=30)
    dump = "".join(lines)
    assert "sync_to_async(stuck_view)" in dump
    assert "sync_to_async(second_query)" in dump
    assert "never.wait()" in dump  # the holder's stack
    assert "waits for #" in dump


def test_the_command_line_needs_a_script_or_a_pid() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "asgiref.sync.diagnose"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "give a script to run, or --pid" in result.stderr
