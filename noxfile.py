"""Every routine task of the asgiref monorepo (``nox -l`` lists them)."""

from __future__ import annotations

import email.parser
import glob
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
                "-m",
                "pytest",
                "-c",
                str(ROOT / "pyproject.toml"),
                "--rootdir",
                str(ROOT),
                "-p",
                "no:cacheprovider",
                str(PACKAGES / dist / "tests"),
                env={"ASGIREF_REPO_ROOT": str(ROOT)},
            )


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
            "-m",
            "pytest",
            "-q",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(ROOT),
            "-p",
            "no:cacheprovider",
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
            "-m",
            "pytest",
            "-q",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(ROOT),
            "-p",
            "no:cacheprovider",
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
