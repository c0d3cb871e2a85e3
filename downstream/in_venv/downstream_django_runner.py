"""A Django test runner that writes each test's outcome as one JSON line.

The file named by ``DOWNSTREAM_RESULTS`` gets one line per outcome event, in
the main process: with ``--parallel`` Django replays the workers' events into
this result class, so the file is complete either way. Lines are flushed as
they happen, so a killed run still leaves what it had finished.

Class- and module-level events (a skipped or failing ``setUpClass``) happen
outside any test. Run serially they name an ``_ErrorHolder``; replayed from a
parallel worker they arrive attached to whichever test of the worker's batch
ran last. Both are recorded under an id of their own, so they can neither
hide a test's real outcome nor be mistaken for it.
"""

from __future__ import annotations

import json
import os
import traceback
import unittest
from types import TracebackType
from typing import IO, Any, Protocol

# Django exists only inside the downstream venvs, never where this file is linted.
from django.test.runner import DiscoverRunner  # type: ignore[import-not-found]


class _Reported(Protocol):
    """A TestCase, or the _ErrorHolder unittest reports class-level events with."""

    def id(self) -> str: ...


# unittest's own exc_info type (typeshed's _SysExcInfoType).
_ExcInfo = tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]


class RecordingResult(unittest.TextTestResult):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sink: IO[str] = open(  # noqa: SIM115 - lives as long as the result
            os.environ["DOWNSTREAM_RESULTS"], "a", encoding="utf-8"
        )

    # Set by RecordingRunner.run_suite: whether events come replayed from workers.
    replayed = False
    _current: str | None = None

    def startTest(self, test: unittest.TestCase) -> None:  # noqa: N802 - unittest's name
        super().startTest(test)
        self._current = test.id()

    def stopTest(self, test: unittest.TestCase) -> None:  # noqa: N802
        super().stopTest(test)
        self._current = None

    def _test_id(self, test: _Reported) -> str:
        test_id = test.id()
        # Run serially, every event names its own test (or an _ErrorHolder).
        # Replayed, only events between startTest and stopTest do: skipped
        # tests (which get no startTest since Python 3.12) and class-level
        # events are attached to a neighbour.
        if not self.replayed or test_id == self._current:
            return test_id
        if isinstance(test, unittest.TestCase):
            return f"[class or module level, replayed by Django onto {test_id}]"
        return f"[class or module level] {test_id}"

    def _record(self, test: _Reported, outcome: str, detail: str = "") -> None:
        event = {"id": self._test_id(test), "outcome": outcome, "detail": detail[-4000:]}
        self._sink.write(json.dumps(event) + "\n")
        self._sink.flush()

    @staticmethod
    def _describe(err: _ExcInfo) -> str:
        if err[1] is None:
            return ""
        try:
            return "".join(traceback.format_exception(err[0], err[1], err[2]))
        except Exception:  # noqa: BLE001 - a traceback that cannot be formatted still counts
            return repr(err[1])

    def addSuccess(self, test: unittest.TestCase) -> None:  # noqa: N802 - unittest's name
        super().addSuccess(test)
        self._record(test, "passed")

    def addFailure(self, test: unittest.TestCase, err: _ExcInfo) -> None:  # noqa: N802
        super().addFailure(test, err)
        self._record(test, "failed", self._describe(err))

    def addError(self, test: unittest.TestCase, err: _ExcInfo) -> None:  # noqa: N802
        super().addError(test, err)
        self._record(test, "error", self._describe(err))

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:  # noqa: N802
        super().addSkip(test, reason)
        self._record(test, "skipped", reason)

    def addExpectedFailure(self, test: unittest.TestCase, err: _ExcInfo) -> None:  # noqa: N802
        super().addExpectedFailure(test, err)
        self._record(test, "xfailed")

    def addUnexpectedSuccess(self, test: unittest.TestCase) -> None:  # noqa: N802
        super().addUnexpectedSuccess(test)
        self._record(test, "xpassed", "unexpected success")

    def addSubTest(  # noqa: N802
        self, test: unittest.TestCase, subtest: unittest.TestCase, err: _ExcInfo | None
    ) -> None:
        super().addSubTest(test, subtest, err)
        if err is not None:
            # A failed subtest fails its parent test, which then reports no success.
            failed = err[0] is not None and issubclass(err[0], test.failureException)
            detail = f"{subtest.id()}\n{self._describe(err)}"
            self._record(test, "failed" if failed else "error", detail)

    def addDuration(self, test: unittest.TestCase, elapsed: float) -> None:  # noqa: N802
        # Python 3.12+ reports each test's time; older Pythons never call this.
        parent = getattr(super(), "addDuration", None)  # absent from 3.10's stubs
        if parent is not None:
            parent(test, elapsed)
        self._sink.write(
            json.dumps({"id": self._test_id(test), "outcome": "duration", "seconds": elapsed})
            + "\n"
        )

    def stopTestRun(self) -> None:  # noqa: N802
        super().stopTestRun()
        self._sink.close()


class RecordingRunner(DiscoverRunner):  # type: ignore[misc]  # Any: see the import
    def run_suite(self, suite: unittest.TestSuite, **kwargs: Any) -> unittest.TestResult:
        RecordingResult.replayed = isinstance(suite, self.parallel_test_suite)
        result: unittest.TestResult = super().run_suite(suite, **kwargs)
        return result

    def get_resultclass(self) -> type[unittest.TextTestResult] | None:
        # --debug-sql and --pdb select their own result classes; keep those.
        chosen: type[unittest.TextTestResult] | None = super().get_resultclass()
        return chosen if chosen is not None else RecordingResult
