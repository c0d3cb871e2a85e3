"""Run every code example of the docs' Markdown pages; exit 1 if one fails.

``python docs/tools/run_examples.py DOCS_DIR REPO_ROOT``, with the interpreter of the
environment the examples are meant for (``nox -s docs``: our installed wheels).

- A ```` ```python ```` block runs as a program of its own: a fresh interpreter,
  warnings as errors, in a fresh empty directory, so no block leans on another.
- A ```` ```toml ```` block must parse.
- A block right after a ``% example: shell`` line (a MyST comment, not shown) runs with
  bash in a scratch directory shared by that page, where ``packages`` points at the
  repository's ``packages/`` folder; a ``python`` block after ``% example: isolated``
  runs in that directory with ``python -S``: no site-packages, nothing installed. The
  vendoring guide uses the two to run exactly the commands it shows.
- Any other block (``sh`` install commands, output) is text.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import tomllib

# An opening fence: three or more backticks, then a language or a {directive}.
OPENING = re.compile(r"^(?P<fence>`{3,})(?P<info>\S*)\s*$")
MARKER = re.compile(r"^% example: (?P<mode>[a-z]+)\s*$")
# Generous: the slowest example starts a few hundred threads on a shared two-core machine.
TIMEOUT = 120


@dataclass(frozen=True)
class Example:
    page: Path
    line: int
    lang: str
    mode: str
    code: str

    def where(self) -> str:
        return f"{self.page.name}:{self.line}"


def examples_in(page: Path) -> list[Example]:
    """Every fenced block of a page, directives included, read line by line."""
    lines = page.read_text().splitlines()
    found = []
    index = 0
    while index < len(lines):
        opening = OPENING.match(lines[index])
        if opening is None:
            index += 1
            continue
        marker = MARKER.match(lines[index - 1]) if index else None
        fence = opening["fence"]
        end = index + 1
        while end < len(lines) and lines[end].strip() != fence:
            end += 1
        code = "\n".join(lines[index + 1 : end]) + "\n"
        mode = marker["mode"] if marker else ""
        found.append(Example(page, index + 2, opening["info"], mode, code))
        index = end + 1
    return found


def check(example: Example, scratch: Path, repo: Path) -> str | None:
    """Check one example; return what went wrong, or None."""
    if example.lang == "toml" and not example.mode:
        try:
            tomllib.loads(example.code)
        except tomllib.TOMLDecodeError as error:
            return f"TOML does not parse: {error}"
        return None
    return run(example, scratch, repo)


def run(example: Example, scratch: Path, repo: Path) -> str | None:
    """Run one shell or Python example; return what went wrong, or None."""
    if example.mode == "shell":
        if example.lang != "sh":
            return "'% example: shell' marks a sh block"
        packages = scratch / "packages"
        if not packages.exists():
            packages.symlink_to(repo / "packages")
        command = ["bash", "-euo", "pipefail", "-c", example.code]
        cwd = scratch
    elif example.lang == "python":
        script = (scratch if example.mode == "isolated" else Path(tempfile.mkdtemp())) / (
            f"example_{example.page.stem.replace('-', '_')}_{example.line}.py"
        )
        script.write_text(example.code)
        flags = ["-S"] if example.mode == "isolated" else []
        command = [sys.executable, *flags, "-W", "error", str(script)]
        cwd = script.parent
    else:
        return None
    try:
        # The commands are the docs' own examples: running them is the point.
        result = subprocess.run(  # noqa: S603
            command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return f"did not finish in {TIMEOUT} s"
    if result.returncode != 0:
        return f"exit status {result.returncode}\n{result.stdout}{result.stderr}"
    return None


def main() -> int:
    docs, repo = (Path(arg).resolve() for arg in sys.argv[1:3])
    failures: list[str] = []
    ran = 0
    for page in sorted(docs.glob("*.md")):
        scratch = Path(tempfile.mkdtemp(prefix=f"docs-{page.stem}-"))
        for example in examples_in(page):
            if example.lang not in ("python", "toml") and example.mode != "shell":
                continue
            ran += 1
            problem = check(example, scratch, repo)
            status = "ok" if problem is None else "FAILED"
            print(f"{status:6} {example.where()} ({example.mode or example.lang})", flush=True)
            if problem is not None:
                failures.append(f"{example.where()}: {problem}")
    print(f"{ran} examples run, {len(failures)} failed")
    for failure in failures:
        print(f"\n--- {failure}", file=sys.stderr)
    return 1 if failures or not ran else 0


if __name__ == "__main__":
    raise SystemExit(main())
