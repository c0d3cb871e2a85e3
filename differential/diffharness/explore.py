"""Drive hypothesis: generate batches, run them on both sides, shrink every unknown difference.

hypothesis is the generator and the shrinker, in two phases:

1. Search: ``max_examples`` batches from a fixed seed, each run on both sides. Every kind of
   unknown difference (its signature) is noted with the first batch that showed it; nothing
   fails, so one early difference cannot cut the search short (hypothesis stops generating
   soon after the first failure).
2. Shrink, once per signature: the same seed again, with a test that fails only when that
   signature shows. Until the first failure hypothesis generates the same batches as in the
   search, so those are answered from the search's cache without running anything; from the
   failure on it shrinks, running each candidate on both sides.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed

from .compare import Difference, differences
from .known import KnownDifference, first_match
from .programs import SEED_BATCHES, batches
from .runners import Runner, run_both

Traces = list[list[dict[str, Any]]]


# Slow examples and big batches are what this search is made of, not a mistake in it.
SUPPRESSED_HEALTH_CHECKS = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.large_base_example,
    HealthCheck.filter_too_much,
]


class BudgetExhausted(BaseException):
    """Stops hypothesis when time is up (a BaseException: hypothesis lets it through)."""


class SignatureShown(AssertionError):
    """The shrink phase's failure: the batch still shows the signature being shrunk."""


@dataclass
class Finding:
    """The smallest batch found for one kind of unknown difference."""

    signature: str
    batch: list[Any]
    published: Traces
    ours: Traces
    differences: list[Difference]
    shrunk: bool = False
    from_seed: bool = False


@dataclass
class Outcome:
    batches_run: int = 0
    programs_run: int = 0
    findings: dict[str, Finding] = field(default_factory=dict[str, Finding])
    known_seen: Counter[str] = field(default_factory=Counter[str])
    # Set when a difference did not show again on a rerun (nondeterminism, ours or the harness's).
    flaky: str = ""
    # Set when the time budget ran out: some batches may not be minimal.
    budget_exhausted: bool = False
    seconds: float = 0.0


@dataclass(frozen=True)
class Plan:
    examples: int
    seed: int
    timeout: float
    max_programs: int = 3
    # Seconds for searching and shrinking together; hypothesis alone would shrink for minutes.
    budget: float = 60.0


@dataclass(frozen=True)
class Run:
    published: Traces
    ours: Traces
    # Unknown differences, and those that only echo another one (see is_echo).
    unknown: list[Difference]
    known: list[str]
    consequences: list[Difference]

    def all(self) -> list[Difference]:
        return sorted(self.unknown + self.consequences, key=lambda d: d.program)


class Explorer:
    def __init__(
        self, published: Runner, ours: Runner, known: list[KnownDifference], plan: Plan
    ) -> None:
        self.published = published
        self.ours = ours
        self.known = known
        self.plan = plan
        self.outcome = Outcome()
        self.cache: dict[str, Run] = {}
        self.started = time.monotonic()

    def run(self, batch: list[Any]) -> Run:
        key = json.dumps(batch, sort_keys=True)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        left, right = run_both(self.published, self.ours, batch, self.plan.timeout)
        unknown: list[Difference] = []
        known: list[str] = []
        consequences: list[Difference] = []
        for difference in differences(left, right):
            entry = first_match(self.known, difference)
            if entry is not None:
                known.append(entry.id)
            elif is_echo(difference):
                consequences.append(difference)
            else:
                unknown.append(difference)
        result = Run(left, right, unknown, known, consequences)
        self.cache[key] = result
        return result

    def hypothesis_test(self, body: Callable[[list[Any]], None], deadline: float) -> None:
        @settings(
            max_examples=self.plan.examples,
            database=None,
            deadline=None,
            report_multiple_bugs=False,
            suppress_health_check=SUPPRESSED_HEALTH_CHECKS,
            phases=[Phase.generate, Phase.shrink],
            verbosity=Verbosity.quiet,
        )
        @given(batches(self.plan.max_programs))
        def test(batch: list[Any]) -> None:
            if time.monotonic() > deadline:
                raise BudgetExhausted
            body(batch)

        hypothesis_seed(self.plan.seed)(test)()

    def search(self) -> None:
        outcome = self.outcome

        def note(batch: list[Any]) -> None:
            result = self.run(batch)
            outcome.batches_run += 1
            outcome.programs_run += len(batch)
            outcome.known_seen.update(result.known)
            for difference in result.unknown:
                if difference.signature not in outcome.findings:
                    outcome.findings[difference.signature] = Finding(
                        difference.signature, batch, result.published, result.ours, result.all()
                    )

        for batch in SEED_BATCHES:
            note(batch)
        # Written small by hand: hypothesis need not search for them again (pruning still runs).
        for finding in outcome.findings.values():
            finding.from_seed = True
        try:
            # Half the budget at most: what is found must be left time to shrink.
            self.hypothesis_test(note, self.started + self.plan.budget / 2)
        except BudgetExhausted:
            self.outcome.budget_exhausted = True

    def shrink(self, signature: str, deadline: float) -> None:
        finding = self.outcome.findings[signature]
        if finding.from_seed:
            self.prune(signature, deadline)
            return
        reproduced = False

        def fails_with_signature(batch: list[Any]) -> None:
            nonlocal reproduced
            result = self.run(batch)
            if any(d.signature == signature for d in result.unknown):
                reproduced = True
                # Each failure hypothesis keeps is smaller than the last: the last is minimal.
                self.outcome.findings[signature] = Finding(
                    signature, batch, result.published, result.ours, result.all()
                )
                raise SignatureShown(signature)

        try:
            self.hypothesis_test(fails_with_signature, deadline)
        except SignatureShown:
            self.prune(signature, deadline)
            return
        except BudgetExhausted:
            self.outcome.budget_exhausted = True
            return
        # No failure at all: the search's batch did not show the signature again.
        if not reproduced:
            rerun = self.cache.pop(json.dumps(finding.batch, sort_keys=True), None)
            if rerun is not None and not any(
                d.signature == signature for d in self.run(finding.batch).unknown
            ):
                self.outcome.flaky += f"{signature} did not show again on a rerun; "

    def prune(self, signature: str, deadline: float) -> None:
        """Finish what hypothesis's shrinker leaves, greedily, while the signature shows.

        hypothesis sometimes keeps a step it could delete, and it cannot lift the steps
        inside a pair of bridges out of it; see simplifications.
        """
        finding = self.outcome.findings[signature]
        progress = True
        while progress and time.monotonic() < deadline:
            progress = False
            for candidate in simplifications(finding.batch):
                if time.monotonic() > deadline:
                    self.outcome.budget_exhausted = True
                    return
                result = self.run(candidate)
                if any(d.signature == signature for d in result.unknown):
                    finding = Finding(
                        signature, candidate, result.published, result.ours, result.all()
                    )
                    self.outcome.findings[signature] = finding
                    progress = True
                    break
        # Shrunk means: no single simplification is left that still shows the signature.
        finding.shrunk = not progress
        if progress:
            self.outcome.budget_exhausted = True

    def explore(self) -> Outcome:
        self.search()
        pending = list(self.outcome.findings)
        for number, signature in enumerate(pending):
            remaining = self.started + self.plan.budget - time.monotonic()
            if remaining <= 0:
                self.outcome.budget_exhausted = True
                break
            # An equal share of what is left, so one slow difference cannot starve the others.
            share = remaining / (len(pending) - number)
            self.shrink(signature, time.monotonic() + share)
        self.outcome.seconds = time.monotonic() - self.started
        return self.outcome


def explore(published: Runner, ours: Runner, known: list[KnownDifference], plan: Plan) -> Outcome:
    return Explorer(published, ours, known, plan).explore()


ECHO_SIGNATURES = ("frame.n", "tsc.c")
_FRAME_RESULT = re.compile(r"r\d+")


def is_echo(difference: Difference) -> bool:
    """Differences that only repeat an earlier one: frames and contexts are numbered in order
    of creation, and a bridge returns its frame's number, so one extra or missing frame shifts
    every number after it. Kept in the report, never searched for on their own."""
    if difference.signature in ECHO_SIGNATURES:
        return True
    if difference.signature.endswith(".ret"):
        sides = (difference.published, difference.ours)
        return all(_FRAME_RESULT.fullmatch(str(side.get("ret"))) for side in sides)
    return False


# Steps whose body runs on the other side of a bridge, and those whose body runs on this side.
BRIDGES = ("a2s", "s2a", "cancel")
BLOCKS = ("tsc", "astc")


def simplifications(batch: list[Any]) -> Iterator[list[Any]]:
    """Smaller copies of ``batch``: one program or step removed, or a block or a pair of
    bridges (a2s -> s2a, s2a -> a2s) replaced by the steps inside it. Outermost first."""
    if len(batch) > 1:
        for index in range(len(batch)):
            yield batch[:index] + batch[index + 1 :]
    for index in range(len(batch)):
        for path in _list_paths(batch[index]["steps"], ()):
            steps = _at(batch[index]["steps"], path)
            for position, step in enumerate(steps):
                if len(steps) > 1 or path:
                    yield _replaced(batch, index, path, position, [])
                for inner in _inner_steps(step):
                    if inner or len(steps) > 1 or path:
                        yield _replaced(batch, index, path, position, inner)


def _inner_steps(step: dict[str, Any]) -> Iterator[list[Any]]:
    if step["k"] in BLOCKS:
        yield step["body"]
    elif step["k"] in BRIDGES:
        for inner in step["body"]:
            if inner["k"] in BRIDGES:
                yield inner["body"]


Path = tuple[int, ...]


def _list_paths(steps: list[Any], path: Path) -> Iterator[Path]:
    """Where each list of steps sits: the positions of the steps that hold it, from the top."""
    yield path
    for position, step in enumerate(steps):
        if step["k"] in BRIDGES + BLOCKS:
            yield from _list_paths(step["body"], (*path, position))


def _at(steps: list[Any], path: Path) -> list[Any]:
    for position in path:
        steps = steps[position]["body"]
    return steps


def _replaced(
    batch: list[Any], index: int, path: Path, position: int, inner: list[Any]
) -> list[Any]:
    copy: list[Any] = json.loads(json.dumps(batch))
    target = _at(copy[index]["steps"], path)
    target[position : position + 1] = json.loads(json.dumps(inner))
    return copy
