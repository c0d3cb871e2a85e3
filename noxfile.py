"""Every routine task of the asgiref monorepo (``nox -l`` lists them)."""

from __future__ import annotations

import email.parser
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
PACKAGES = ROOT / "packages"
# Parts first, meta-package last: the order in which tests and builds report.
DISTRIBUTIONS = (
    "asgiref-types",
    "asgiref-sync",
    "asgiref-wsgi",
    "asgiref-testing",
    "asgiref-server",
    "asgiref",
)
PARTS = DISTRIBUTIONS[:-1]
SUPPORTED_PYTHONS = ("3.10", "3.11", "3.12", "3.13")
# The published asgiref 3.13.0 needs Python 3.11+, so side-by-side runs use this one.
COMPARISON_PYTHON = "3.12"
PUBLISHED_ASGIREF = "asgiref==3.13.0"
TEST_TOOLS = ("pytest>=8", "pytest-timeout>=2.3", "anyio>=4.4")
# pytest with the repository's settings, from wherever a session runs it (never a source tree).
PYTEST = (
    "-m",
    "pytest",
    "-c",
    str(ROOT / "pyproject.toml"),
    "--rootdir",
    str(ROOT),
    "-p",
    "no:cacheprovider",
)
TYPECHECK_TOOLS = ("mypy>=1.13", "pyright>=1.1.390")
# hypothesis generates and shrinks the differential session's programs: a test-only dependency
# of that session (and of typechecking its harness), never of a distribution.
DIFFERENTIAL_TOOLS = ("hypothesis>=6.100",)

nox.options.sessions = ["tests", "lint", "typecheck", "build", "install_matrix"]
# A missing interpreter is reported and skipped, on CI too (nox would error there by default).
nox.options.error_on_missing_interpreters = False
nox.options.reuse_existing_virtualenvs = True
# uv builds session venvs in a fraction of the time; plain venv when uv is absent (install
# "nox[uv]" to have it: the README says so).
nox.options.default_venv_backend = "uv|venv"


# --------------------------------------------------------------------------- interpreters


def _python_version_of(executable: str) -> str | None:
    """Return "3.X" for a working interpreter, None for a broken one (e.g. a pyenv shim)."""
    try:
        out = subprocess.run(
            [executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _pyenv_root() -> Path | None:
    if os.environ.get("PYENV_ROOT"):
        return Path(os.environ["PYENV_ROOT"])
    pyenv = shutil.which("pyenv")
    if pyenv:
        out = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=False)
        if out.returncode == 0 and out.stdout.strip():
            return Path(out.stdout.strip())
    default = Path.home() / ".pyenv"
    return default if default.is_dir() else None


def _discover_interpreters() -> dict[str, str]:
    """Map each supported "3.X" to a working interpreter from PATH or pyenv's versions."""
    found: dict[str, str] = {}
    root = _pyenv_root()
    for version in SUPPORTED_PYTHONS:
        candidates: list[str] = []
        if root is not None:
            # Newest patch release first.
            pattern = str(root / "versions" / f"{version}.*" / "bin" / f"python{version}")
            candidates += sorted(glob.glob(pattern), reverse=True)
        for directory in os.environ.get("PATH", "").split(os.pathsep):
            candidates.append(os.path.join(directory, f"python{version}"))
        for candidate in candidates:
            if os.access(candidate, os.X_OK) and _python_version_of(candidate) == version:
                found[version] = candidate
                break
    return found


INTERPRETERS = _discover_interpreters()
for _version in SUPPORTED_PYTHONS:
    if _version in INTERPRETERS:
        # Put the real interpreter ahead of pyenv shims so nox resolves pythonX.Y to it.
        _bin = str(Path(INTERPRETERS[_version]).parent)
        os.environ["PATH"] = _bin + os.pathsep + os.environ.get("PATH", "")
    else:
        print(
            f"noxfile: Python {_version} was found neither on PATH nor under pyenv's versions; "
            f"sessions for {_version} will be skipped.",
            file=sys.stderr,
        )
AVAILABLE_PYTHONS = [v for v in SUPPORTED_PYTHONS if v in INTERPRETERS]


# --------------------------------------------------------------------------- wheels


_built: dict[str, Path] = {}


def _dist_dir() -> Path:
    return ROOT / ".nox" / "_dist"


def build_distributions(session: nox.Session, *, sdists: bool = False) -> dict[str, Path]:
    """Build every wheel (and optionally sdist) once per nox run; return dist -> wheel path."""
    if _built and not sdists:
        return dict(_built)
    out = _dist_dir()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    session.install("hatchling>=1.26")
    targets = ["-t", "wheel"] + (["-t", "sdist"] if sdists else [])
    for dist in DISTRIBUTIONS:
        with session.chdir(PACKAGES / dist):
            session.run("hatchling", "build", *targets, "-d", str(out), silent=True)
    for dist in DISTRIBUTIONS:
        (wheel,) = out.glob(f"{dist.replace('-', '_')}-*.whl")
        _built[dist] = wheel
    return dict(_built)


def _requirement_name(requirement: str) -> str:
    """The distribution name at the start of a requirement line ("asgiref-sync==3.13.0; ...")."""
    match = re.match(r"[A-Za-z0-9._-]+", requirement.strip())
    return match.group(0) if match else ""


def wheel_requirements(wheel: Path) -> list[str]:
    """The Requires-Dist lines of a wheel's metadata."""
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = email.parser.Parser().parsestr(archive.read(name).decode())
    return metadata.get_all("Requires-Dist") or []


def sibling_closure(dists: list[str]) -> list[str]:
    """``dists`` plus every asgiref distribution they depend on, in build order."""
    wanted = set(dists)
    changed = True
    while changed:
        changed = False
        for dist in list(wanted):
            for requirement in wheel_requirements(_built[dist]):
                name = _requirement_name(requirement)
                if name in DISTRIBUTIONS and name not in wanted:
                    wanted.add(name)
                    changed = True
    return [d for d in DISTRIBUTIONS if d in wanted]


def test_requirements(dist: str) -> tuple[list[str], list[str]]:
    """Split packages/<dist>/tests/requirements.txt into (sibling dists, external specs)."""
    path = PACKAGES / dist / "tests" / "requirements.txt"
    siblings: list[str] = []
    external: list[str] = []
    if path.exists():
        for raw in path.read_text().splitlines():
            line = raw.split("#")[0].strip()
            if not line:
                continue
            (siblings if _requirement_name(line) in DISTRIBUTIONS else external).append(line)
    return siblings, external


def _uv(session: nox.Session) -> str | None:
    """A uv executable when one can be had: it makes a test venv in under a second, pip in ~15."""
    # On PATH, beside nox itself (``pip install "nox[uv]"``), or installed earlier here.
    found = (
        shutil.which("uv")
        or shutil.which("uv", path=str(Path(sys.executable).parent))
        or shutil.which("uv", path=session.bin)
    )
    if found:
        return found
    if isinstance(session.virtualenv, nox.virtualenv.VirtualEnv):
        # Once per session venv: every throwaway venv of the session uses it.
        session.install("uv", silent=True)
        return shutil.which("uv", path=session.bin)
    return None


class Env:
    """A throwaway virtualenv made outside nox's one-per-session model."""

    def __init__(self, session: nox.Session, path: Path) -> None:
        self.session = session
        self.path = path
        self.uv = _uv(session)
        base = INTERPRETERS.get(str(session.python)) or sys.executable
        shutil.rmtree(path, ignore_errors=True)
        if self.uv:
            session.run(self.uv, "venv", "-q", "-p", base, str(path), external=True)
        else:
            session.run(base, "-m", "venv", str(path), silent=True, external=True)
        self.python = str(path / "bin" / "python")

    def pip(self, *args: str) -> None:
        if self.uv:
            self.session.run(self.uv, "pip", *args, "--python", self.python, external=True)
        else:
            yes = ("-y",) if args[0] == "uninstall" else ()
            self.session.run(
                self.python, "-m", "pip", "--disable-pip-version-check", *args, *yes, external=True
            )

    def install_ours(self, dists: list[str], *, editable: bool = False) -> None:
        """Install our distributions from local files only, never by name from an index."""
        if editable:
            self.pip("install", "-q", "--no-deps", *[f"-e{PACKAGES / d}" for d in dists])
        else:
            self.pip("install", "-q", "--no-deps", *[str(_built[d]) for d in dists])
        # The parts' only third-party dependency; --no-deps above skipped it.
        self.pip("install", "-q", "typing_extensions>=4.6")

    def run(self, *args: str, **kwargs: object) -> object:
        return self.session.run(self.python, *args, external=True, **kwargs)  # type: ignore[arg-type]


def _env_dir(session: nox.Session, name: str) -> Path:
    return Path(session.virtualenv.location).parent / f"_{session.name}-{name}".replace("/", "_")


def _check_installed_from(env: Env, modules: list[str]) -> None:
    """Fail unless each module is imported from the env's site-packages, not a source tree."""
    with env.session.chdir(tempfile.gettempdir()):
        env.run(str(ROOT / "tools" / "install_checks.py"), "from-site-packages", *modules)


SUBPACKAGES = {
    "asgiref-types": ["asgiref.typing"],
    "asgiref-sync": [
        "asgiref.sync",
        "asgiref.local",
        "asgiref.current_thread_executor",
        "asgiref.timeout",
        "asgiref.compatibility",
    ],
    "asgiref-wsgi": ["asgiref.wsgi"],
    "asgiref-testing": ["asgiref.testing"],
    "asgiref-server": ["asgiref.server"],
    "asgiref": ["asgiref"],
}


# --------------------------------------------------------------------------- sessions


@nox.session(python=AVAILABLE_PYTHONS or SUPPORTED_PYTHONS[-1])
def tests(session: nox.Session) -> None:
    """Run each distribution's tests against its installed wheel, alone in a fresh venv."""
    build_distributions(session)
    only = session.posargs or list(DISTRIBUTIONS)
    for dist in only:
        siblings, external = test_requirements(dist)
        # For the meta-package this is all six: it depends on every part.
        installed = sibling_closure([dist, *siblings])
        env = Env(session, _env_dir(session, dist))
        env.install_ours(installed)
        env.pip("install", "-q", *TEST_TOOLS, *external)
        env.pip("check")
        _check_installed_from(env, [m for d in installed for m in SUBPACKAGES[d]])
        session.log(f"{dist}: testing {', '.join(installed)} on Python {session.python}")
        with session.chdir(tempfile.gettempdir()):
            env.run(
                *PYTEST,
                str(PACKAGES / dist / "tests"),
                env={"ASGIREF_REPO_ROOT": str(ROOT)},
            )


def published_checked_parts() -> list[str]:
    """The parts whose tests run on asgiref 3.13.0 too: those whose conftest says which are ours.

    A tests folder joins by giving its conftest.py an ``OURS_ONLY_MODULES`` table (and its
    ours-only tests an ``ours_only(id)`` marker); nothing here needs to change.
    """
    return [
        dist
        for dist in PARTS
        if "OURS_ONLY_MODULES" in _read_if_exists(PACKAGES / dist / "tests" / "conftest.py")
    ]


def _read_if_exists(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


class KeptEnv(Env):
    """An Env kept from one run to the next while it is asked for the same requirements."""

    def __init__(self, session: nox.Session, path: Path, requirements: list[str]) -> None:
        stamp = path / "requirements.txt"
        wanted = "\n".join(requirements) + "\n"
        python = path / "bin" / "python"
        if python.exists() and _read_if_exists(stamp) == wanted:
            self.session = session
            self.path = path
            self.uv = _uv(session)
            self.python = str(python)
            return
        super().__init__(session, path)
        self.pip("install", "-q", *requirements)
        stamp.write_text(wanted, encoding="utf-8")


def _published_summary(dist: str, report: dict[str, dict[str, int]]) -> str:
    outcomes = report["outcomes"]
    tests = report["ours_only_tests"]
    modules = report["ours_only_modules"]
    # "sync-idle-threads-retire 2+1m": two tests, and one whole module, ours only for that id.
    by_id = [
        f"{used_id} {tests.get(used_id, 0)}"
        + (f"+{modules[used_id]}m" if used_id in modules else "")
        for used_id in sorted({*tests, *modules})
    ]
    skipped = f" ({outcomes['skipped']} skipped)" if outcomes.get("skipped") else ""
    return (
        f"{dist}: {outcomes.get('passed', 0)} checked against published{skipped}, "
        f"{sum(tests.values())} tests + {sum(modules.values())} modules ours-only"
        + (f" by id: {', '.join(by_id)}" if by_id else "")
    )


@nox.session(python=COMPARISON_PYTHON)
def against_published(session: nox.Session) -> None:
    """Run each part's tests on asgiref 3.13.0, all but those marked ours_only(DEVIATIONS id)."""
    only = session.posargs or published_checked_parts()
    unknown = sorted(set(only) - set(published_checked_parts()))
    if unknown:
        session.error(f"no published check for {unknown}; a conftest needs OURS_ONLY_MODULES")
    work = Path(session.create_tmp()).resolve()
    summaries: list[str] = []
    for dist in only:
        # Sibling test requirements (asgiref-testing, ...) are part of the published package.
        external = test_requirements(dist)[1]
        env = KeptEnv(
            session,
            _env_dir(session, dist),
            [PUBLISHED_ASGIREF, *TEST_TOOLS, *external],
        )
        report_path = work / f"{dist}.json"
        report_path.unlink(missing_ok=True)
        session.log(f"{dist}: its tests on {PUBLISHED_ASGIREF}, ours_only deselected")
        with session.chdir(tempfile.gettempdir()):
            env.run(
                *PYTEST,
                "-q",
                "-p",
                # Checks the ids and what is installed, and writes the report.
                "pytest_against_published",
                "-m",
                "not ours_only",
                str(PACKAGES / dist / "tests"),
                env={
                    "ASGIREF_UNDER_TEST": "published",
                    "ASGIREF_DEVIATIONS": str(ROOT / "DEVIATIONS.md"),
                    "ASGIREF_PUBLISHED_REPORT": str(report_path),
                    "ASGIREF_REPO_ROOT": str(ROOT),
                    "PYTHONPATH": str(ROOT / "tools"),
                },
            )
        summaries.append(_published_summary(dist, json.loads(report_path.read_text())))
    for line in summaries:
        session.log(line)


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    """Lint and check formatting with ruff."""
    env = Env(session, ROOT / ".nox" / "_lint")
    env.pip("install", "-q", "ruff>=0.8")
    ruff = str(env.path / "bin" / "ruff")
    session.run(ruff, "check", str(ROOT), external=True)
    session.run(ruff, "format", "--check", str(ROOT), external=True)


# A fresh venv each time: our wheels installed by the last run would shadow the sources.
@nox.session(python=COMPARISON_PYTHON, reuse_venv=False)
def typecheck(session: nox.Session) -> None:
    """mypy --strict and pyright strict over every source and test, incl. the type tests."""
    build_distributions(session)
    externals: list[str] = []
    for dist in DISTRIBUTIONS:
        externals += test_requirements(dist)[1]
    session.install(
        *TYPECHECK_TOOLS, *TEST_TOOLS, *DIFFERENTIAL_TOOLS, "typing_extensions>=4.6", *externals
    )
    part_srcs = [str(PACKAGES / d / "src") for d in PARTS]
    # The parts are checked from source as one PEP 420 namespace (no meta __init__.py in the
    # way); each distribution separately, so the tests' conftest modules do not collide.
    for dist in PARTS:
        targets = [str(PACKAGES / dist / "src" / "asgiref"), str(PACKAGES / dist / "tests")]
        session.run("mypy", *targets, env={"MYPYPATH": os.pathsep.join(part_srcs)})
    session.run("pyright", *[str(PACKAGES / d) for d in PARTS])
    _typecheck_newest_python(session, part_srcs)
    # The meta-package and its tests against the installed wheels: this is also the proof
    # that an installed `asgiref` exposes its inline types to both checkers.
    for dist in DISTRIBUTIONS:
        session.install("--no-deps", str(_built[dist]))
    meta_tests = str(PACKAGES / "asgiref" / "tests")
    tmp = Path(session.create_tmp()).resolve()
    # Without the source paths of the root config, so that only the installed wheels count.
    (tmp / "pyrightconfig.json").write_text(
        '{"typeCheckingMode": "strict", "pythonVersion": "3.10",'
        ' "reportUnnecessaryTypeIgnoreComment": "error"}'
    )
    with session.chdir(tmp):
        session.run("mypy", "--config-file", str(ROOT / "pyproject.toml"), meta_tests)
        session.run("pyright", "--project", str(tmp / "pyrightconfig.json"), meta_tests)
    meta_init = str(PACKAGES / "asgiref" / "src" / "asgiref" / "__init__.py")
    session.run("mypy", meta_init, env={"MYPYPATH": str(PACKAGES / "asgiref" / "src")})
    # The differential harness, also against the installed wheels (its runner imports asgiref).
    harness = ROOT / "differential"
    # pyright takes only paths relative to its config file.
    relative = os.path.relpath(harness, tmp)
    (tmp / "pyrightconfig-differential.json").write_text(
        '{"typeCheckingMode": "strict", "pythonVersion": "3.10",'
        ' "reportUnnecessaryTypeIgnoreComment": "error",'
        f' "include": ["{relative}"], "extraPaths": ["{relative}"]}}'
    )
    with session.chdir(harness):
        targets = ["run.py", "diffharness", "tests", "in_venv"]
        session.run("mypy", "--config-file", str(ROOT / "pyproject.toml"), *targets)
    with session.chdir(tmp):
        session.run("pyright", "--project", str(tmp / "pyrightconfig-differential.json"))


# The newest Python the code must hold up on, whether or not an interpreter for it is
# installed: both checkers read the standard library's stubs for this version.
NEWEST_CHECKED_PYTHON = "3.14"


def _typecheck_newest_python(session: nox.Session, part_srcs: list[str]) -> None:
    """Check the parts as if on NEWEST_CHECKED_PYTHON, where a use of anything it
    deprecates (the asyncio policy system, asyncio.iscoroutinefunction, ...) is an error.
    Code gated on ``sys.version_info`` for older Pythons is skipped by both checkers."""
    for dist in PARTS:
        targets = [str(PACKAGES / dist / "src" / "asgiref"), str(PACKAGES / dist / "tests")]
        session.run(
            "mypy",
            "--python-version",
            NEWEST_CHECKED_PYTHON,
            "--enable-error-code",
            "deprecated",
            # Code for older Pythons is unreachable here, and an ignore it needs unused:
            # the run at the oldest Python (pyproject.toml) checks both.
            "--no-warn-unreachable",
            "--no-warn-unused-ignores",
            *targets,
            env={"MYPYPATH": os.pathsep.join(part_srcs)},
        )
    # pyright takes rule severities from a config file only: one that extends the root's.
    config = Path(session.create_tmp()).resolve() / f"pyright-{NEWEST_CHECKED_PYTHON}.json"
    config.write_text(
        json.dumps(
            {
                "extends": str(ROOT / "pyproject.toml"),
                "pythonVersion": NEWEST_CHECKED_PYTHON,
                "reportDeprecated": "error",
                "reportUnnecessaryTypeIgnoreComment": "none",
            }
        )
    )
    session.run("pyright", "--project", str(config), *[str(PACKAGES / d) for d in PARTS])


@nox.session(python=COMPARISON_PYTHON)
def build(session: nox.Session) -> None:
    """Build every wheel and sdist; check each wheel ships only its own subpackages."""
    built = build_distributions(session, sdists=True)
    owners: dict[str, str] = {}
    for dist, wheel in built.items():
        with zipfile.ZipFile(wheel) as archive:
            names = [n for n in archive.namelist() if ".dist-info/" not in n]
        own_roots = tuple(m.replace(".", "/") + "/" for m in SUBPACKAGES[dist] if m != "asgiref")
        for name in names:
            if dist == "asgiref":
                ok = name in ("asgiref/__init__.py", "asgiref/py.typed")
            else:
                ok = name.startswith(own_roots)
            if not ok:
                session.error(f"{wheel.name} ships {name}, which is not one of its subpackages")
            if name in owners:
                session.error(f"{name} is shipped by both {owners[name]} and {dist}")
            owners[name] = dist
            if name.endswith((".pyc", ".pyo")) or "__pycache__" in name:
                session.error(f"{wheel.name} ships a compiled file: {name}")
            if "/tests/" in name or name.startswith("tests/"):
                session.error(f"{wheel.name} ships a test file: {name}")
        for module in SUBPACKAGES[dist]:
            marker = module.replace(".", "/") + "/py.typed"
            if marker not in names:
                session.error(f"{wheel.name} lacks {marker}")
        session.log(f"{wheel.name}: {len(names)} files, all under {', '.join(SUBPACKAGES[dist])}")
    sdists = sorted(_dist_dir().glob("*.tar.gz"))
    if len(sdists) != len(DISTRIBUTIONS):
        session.error(f"expected {len(DISTRIBUTIONS)} sdists, found {[s.name for s in sdists]}")
    session.log(f"{len(built)} wheels and {len(sdists)} sdists in {_dist_dir()}")


@nox.session(python=COMPARISON_PYTHON)
def install_matrix(session: nox.Session) -> None:
    """Install the distributions the ways users do, each case in a fresh virtualenv."""
    build_distributions(session)
    script = str(ROOT / "tools" / "install_checks.py")
    work = Path(session.create_tmp()).resolve()

    # (a) Only the types: they import, nothing else does, and both checkers see them.
    env = Env(session, work / "types-only")
    env.install_ours(["asgiref-types"])
    env.pip("install", "-q", *TYPECHECK_TOOLS)
    env.run(script, "types-only", str(work / "types-only-check"))

    # (b) Everything through the meta-package, regular install.
    env = Env(session, work / "meta")
    env.install_ours(list(DISTRIBUTIONS))
    env.pip("check")
    env.run(script, "everything")

    # (c) The same, editable (each part's src/ on its own sys.path entry).
    env = Env(session, work / "editable")
    env.install_ours(list(DISTRIBUTIONS), editable=True)
    env.pip("check")
    env.run(script, "everything")

    # (d) Uninstall one part: the rest still imports and type-checks.
    env = Env(session, work / "minus-wsgi")
    env.install_ours(list(DISTRIBUTIONS))
    env.pip("install", "-q", *TYPECHECK_TOOLS)
    env.pip("uninstall", "asgiref-wsgi")
    env.run(script, "without-wsgi", str(work / "minus-wsgi-check"))

    # (e) Vendoring: one distribution's src/ copied under another top-level name.
    env = Env(session, work / "vendored")
    env.pip("install", "-q", "typing_extensions>=4.6")
    env.run(script, "vendored", str(PACKAGES), str(work / "vendored-project"))


DEMO_PYTHON = COMPARISON_PYTHON if COMPARISON_PYTHON in INTERPRETERS else SUPPORTED_PYTHONS[-1]
if AVAILABLE_PYTHONS and DEMO_PYTHON not in AVAILABLE_PYTHONS:
    DEMO_PYTHON = AVAILABLE_PYTHONS[-1]


@nox.session(python=DEMO_PYTHON)
def demo(session: nox.Session) -> None:
    """Show the library at work: run every script in demos/ against the installed wheels."""
    build_distributions(session)
    env = Env(session, _env_dir(session, "demo"))
    env.install_ours(list(DISTRIBUTIONS))
    # The trio demo's backend: what the asgiref-sync[trio] extra brings.
    env.pip("install", "-q", "trio>=0.25")
    scripts = sorted((ROOT / "demos").glob("[0-9]*.py"))
    if not scripts:
        session.error("demos/ holds no demo script")
    for script in scripts:
        print(f"\n{'=' * 78}\n{script.name}\n{'=' * 78}", flush=True)
        with session.chdir(tempfile.gettempdir()):
            env.run(str(script))


@nox.session(python=COMPARISON_PYTHON)
def bench(session: nox.Session) -> None:
    """Measure ours against the published asgiref 3.13.0, alternating runs, as ratios."""
    build_distributions(session)
    work = Path(session.create_tmp()).resolve()
    extras = ["a2wsgi"]
    published = Env(session, work / "published")
    published.pip("install", "-q", PUBLISHED_ASGIREF, *extras)
    ours = Env(session, work / "ours")
    ours.install_ours(list(DISTRIBUTIONS))
    ours.pip("install", "-q", *extras)
    session.run(
        "python",
        str(ROOT / "benchmarks" / "run.py"),
        "--published",
        published.python,
        "--ours",
        ours.python,
        *session.posargs,
    )


@nox.session(python=COMPARISON_PYTHON)
def downstream(session: nox.Session) -> None:
    """Run Django's and Daphne's own test suites on the published asgiref and on ours."""
    # The driver's own tests first: a broken proof step would make every later green meaningless.
    session.install(*TEST_TOOLS)
    with session.chdir(tempfile.gettempdir()):
        session.run(
            "python",
            *PYTEST,
            "-q",
            str(ROOT / "downstream" / "tests"),
        )
    python = INTERPRETERS.get(COMPARISON_PYTHON) or sys.executable
    session.run(python, str(ROOT / "downstream" / "run.py"), *session.posargs, external=True)


@nox.session(python=COMPARISON_PYTHON)
def differential(session: nox.Session) -> None:
    """Generated programs on the published asgiref 3.13.0 and on ours; fail on new differences."""
    build_distributions(session)
    session.install(*TEST_TOOLS, *DIFFERENTIAL_TOOLS)
    work = Path(session.create_tmp()).resolve()
    published = Env(session, work / "published")
    published.pip("install", "-q", PUBLISHED_ASGIREF)
    ours = Env(session, work / "ours")
    ours.install_ours(list(DISTRIBUTIONS))
    _check_installed_from(ours, [m for d in DISTRIBUTIONS for m in SUBPACKAGES[d]])
    with session.chdir(work):
        # The harness's own tests first: a harness that misses a planted difference proves nothing.
        session.run(
            "python",
            *PYTEST,
            "-q",
            str(ROOT / "differential" / "tests"),
            env={"DIFFERENTIAL_PYTHON": published.python},
        )
        session.run(
            "python",
            str(ROOT / "differential" / "run.py"),
            "--published",
            published.python,
            "--ours",
            ours.python,
            "--report",
            str(work / "differential-report.json"),
            *session.posargs,
        )


# The production shape of Channels; versions pinned so that both sides run the same stack.
CHANNELS_STACK = (
    "channels==4.3.2",
    "channels-redis==4.3.0",
    "daphne==4.2.3",
    "uvicorn==0.54.0",
    "websockets>=17,<18",
)


@nox.session(python=COMPARISON_PYTHON)
def e2e_channels(session: nox.Session) -> None:
    """A Channels site (Daphne, uvicorn, runworker, Redis) under load and faults, both asgirefs."""
    build_distributions(session)
    e2e = ROOT / "e2e" / "channels"
    # The driver's accounting tests first: a wrong loss count would make every green a lie.
    session.install(*TEST_TOOLS, "websockets>=17,<18")
    with session.chdir(tempfile.gettempdir()):
        session.run(
            "python",
            *PYTEST,
            "-q",
            str(e2e / "tests"),
        )
    work = Path(session.create_tmp()).resolve()
    published = Env(session, work / "published")
    published.pip("install", "-q", *CHANNELS_STACK, PUBLISHED_ASGIREF)
    ours = Env(session, work / "ours")
    # Channels and Daphne require asgiref: let them pull the published one, then swap in ours.
    ours.pip("install", "-q", *CHANNELS_STACK)
    ours.pip("uninstall", "asgiref")
    ours.install_ours(list(DISTRIBUTIONS))
    ours.pip("check")
    session.run(
        "python",
        str(e2e / "run.py"),
        "--side",
        f"published={published.python}",
        "--side",
        f"ours={ours.python}",
        "--ours-wheels",
        str(_dist_dir()),
        "--work-dir",
        str(work / "run"),
        *session.posargs,
    )


# --------------------------------------------------------------------------- documentation

DOCS = ROOT / "docs"
DOCS_TOOLS = ("sphinx>=8.1,<10", "furo>=2024.8.6", "myst-parser>=4.0")


def build_docs_site(session: nox.Session) -> tuple[Env, Path]:
    """Build the HTML site from our installed wheels, warnings as errors; return (env, site)."""
    build_distributions(session)
    env = Env(session, _env_dir(session, "site"))
    env.install_ours(list(DISTRIBUTIONS))
    env.pip("install", "-q", *DOCS_TOOLS)
    # autodoc must document the wheels users get, never a source tree.
    _check_installed_from(env, [m for d in DISTRIBUTIONS for m in SUBPACKAGES[d]])
    work = Path(session.create_tmp()).resolve()
    site = work / "html"
    shutil.rmtree(site, ignore_errors=True)
    # -E: every page rebuilt, so a warning of an unchanged page is reported every time.
    env.run(
        "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html",
        "-d", str(work / "doctrees"), str(DOCS), str(site),
    )  # fmt: skip
    env.run(str(DOCS / "tools" / "check_links.py"), str(site))
    return env, site


@nox.session(python=COMPARISON_PYTHON)
def docs(session: nox.Session) -> None:
    """Build the documentation site (warnings are errors) and run every code example in it."""
    env, site = build_docs_site(session)
    with session.chdir(tempfile.gettempdir()):
        env.run(str(DOCS / "tools" / "run_examples.py"), str(DOCS), str(ROOT))
    session.log(f"site: {site / 'index.html'}")


def _chromium(session: nox.Session) -> str:
    """A headless-capable Chromium, installed with apt-get when missing (Debian: `chromium`)."""
    names = ("chromium", "chromium-browser", "google-chrome")
    found = next((shutil.which(n) for n in names if shutil.which(n)), None)
    if found:
        return found
    if not shutil.which("apt-get"):
        session.error("no Chromium found and no apt-get to install it: install chromium")
    session.run("apt-get", "update", "-q", external=True)
    session.run("apt-get", "install", "-y", "-q", "chromium", external=True)
    found = shutil.which("chromium")
    if not found:
        session.error("apt-get installed chromium, but it is not on PATH")
    return found


# The front page and one API page: what a reader sees first and what they come back for.
SCREENSHOT_PAGES = ("index.html", "api/sync.html")


@nox.session(python=COMPARISON_PYTHON)
def docs_screenshots(session: nox.Session) -> None:
    """Build the site, check its internal links, screenshot pages in headless Chromium."""
    chromium = _chromium(session)
    _env, site = build_docs_site(session)
    shots = Path(session.create_tmp()).resolve() / "screenshots"
    shots.mkdir(exist_ok=True)
    for page in SCREENSHOT_PAGES:
        png = shots / (page.replace("/", "-").removesuffix(".html") + ".png")
        png.unlink(missing_ok=True)
        session.run(
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--window-size=1280,1000", f"--screenshot={png}", (site / page).as_uri(),
            external=True, silent=True,
        )  # fmt: skip
        # A blank or error page compresses to a few kilobytes; a rendered one does not.
        if not png.is_file() or png.stat().st_size < 20_000:
            session.error(f"{page}: no screenshot, or a blank one, at {png}")
        session.log(f"{page}: {png} ({png.stat().st_size // 1024} KiB)")
