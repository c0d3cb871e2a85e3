"""Print the outcome compactly and write it in full (minimal batches, both traces) to a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .explore import Finding, Outcome, Plan
from .known import KnownDifference


def summary_line(outcome: Outcome, plan: Plan) -> str:
    seed = str(plan.seed)
    known = sum(outcome.known_seen.values())
    parts = [
        f"differential: {outcome.batches_run} batches ({outcome.programs_run} programs)",
        f"seed {seed}",
        f"{len(outcome.findings)} unknown difference(s)",
        f"{known} known difference(s) matched",
        f"{outcome.seconds:.1f}s",
    ]
    if outcome.flaky:
        parts.append("NONDETERMINISTIC (see below)")
    if outcome.budget_exhausted:
        parts.append(f"time budget of {plan.budget:.0f}s spent (batches may not be minimal)")
    return ", ".join(parts)


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def finding_text(number: int, finding: Finding) -> str:
    first = next(d for d in finding.differences if d.signature == finding.signature)
    program = finding.batch[first.program]
    state = "" if finding.shrunk else ", NOT shrunk"
    where = first.path or "/"
    place = f"program {first.program} of {len(finding.batch)}, at {where}{state}"
    lines = [f"[{number}] {finding.signature}  ({place})"]
    if len(finding.batch) > 1:
        lines.append(f"    batch:     {_compact(finding.batch)}")
    else:
        lines.append(f"    program:   {_compact(program)}")
    lines.append(f"    published: {_compact(first.published)}")
    lines.append(f"    ours:      {_compact(first.ours)}")
    more = len(finding.differences) - 1
    if more:
        lines.append(f"    (+{more} more difference(s) in the same batch; see the report file)")
    return "\n".join(lines)


def render(outcome: Outcome, plan: Plan, known: list[KnownDifference]) -> str:
    blocks = [summary_line(outcome, plan)]
    for number, finding in enumerate(outcome.findings.values(), 1):
        blocks.append(finding_text(number, finding))
    if outcome.flaky:
        blocks.append(f"hypothesis could not replay a failure: {outcome.flaky}")
    unseen = [entry.id for entry in known if entry.id not in outcome.known_seen]
    if unseen:
        blocks.append(f"known entries not seen in this run: {', '.join(unseen)}")
    return "\n".join(blocks)


def write(path: Path, outcome: Outcome, plan: Plan) -> None:
    document = {
        "summary": summary_line(outcome, plan),
        "seed": plan.seed,
        "examples": plan.examples,
        "flaky": outcome.flaky,
        "budget_exhausted": outcome.budget_exhausted,
        "known_seen": dict(outcome.known_seen),
        "findings": [
            {
                "signature": finding.signature,
                "shrunk": finding.shrunk,
                "differences": [
                    {
                        "program": d.program,
                        "path": d.path,
                        "signature": d.signature,
                        "published": d.published,
                        "ours": d.ours,
                    }
                    for d in finding.differences
                ],
                "batch": finding.batch,
                "published_traces": finding.published,
                "ours_traces": finding.ours,
            }
            for finding in outcome.findings.values()
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
