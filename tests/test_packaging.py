"""What a pip user gets: the wheel's contents (the examples, py.typed, the licence), the
sdist's (what its own tests need), and a wheel in a fresh virtual environment with no
repository beside it, where ``flowsim examples copy x`` and ``flowsim run
x/venezuela_sanctions.toml`` work. Also ``flowsim examples`` itself, and ``python -m
flowsim``.

The sdist and the wheel are built once for the module, offline, with ``build
--no-isolation`` (the dev extra brings build and setuptools), from a copy of the
repository, so that the build's egg-info is never written into the repository. The
wheel is built from the sdist, as pip builds it from one: the examples reach it that way.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from fuzz_strategies import call_main
from shipped import SCENARIO_FOLDER, SHIPPED_SCENARIOS

import flowsim
from flowsim import examples as examples_module

ROOT = Path(__file__).resolve().parents[1]
SOURCES_TABLE = ROOT / "docs" / "sources.md"
SWEEPS = sorted((SCENARIO_FOLDER / "sweeps").glob("*.toml"))
CALIBRATION = SCENARIO_FOLDER / "venezuela_sanctions.calibration.toml"
# Every example by its path in a copy: what the wheel and `flowsim examples copy` hold.
EXAMPLES = {
    **{p.relative_to(SCENARIO_FOLDER).as_posix(): p for p in SCENARIO_FOLDER.rglob("*.toml")},
    **{f"schema/{p.name}": p for p in (ROOT / "docs" / "schema").glob("*.schema.json")},
    "sources.md": SOURCES_TABLE,
}
# What a build must not copy from the repository: not part of either distribution.
NOT_COPIED = {".git", ".venv", ".venv-min", "results", "build", "dist"}
NOT_COPIED |= {".pytest_cache", ".ruff_cache", ".hypothesis"}
# The folders whose every file the sdist holds: the tests and what they read or import.
SDIST_FOLDERS = ("tests", "scenarios", "docs", "notebooks", "data", "tools", "benchmarks")
SDIST_FOLDERS += ("constraints",)
SDIST_FILES = ("Makefile", "README.md", "LICENSE", "pyproject.toml", "setup.py", "MANIFEST.in")
SDIST_FILES += (".taplo.toml", ".pre-commit-hooks.yaml")
BUILD_TOOLS_MISSING = (
    "building needs the build package and setuptools>=77 (pip install -e '.[dev]')"
)


def _can_build() -> bool:
    if importlib.util.find_spec("build") is None:
        return False
    major = int(metadata.version("setuptools").split(".")[0])
    return major >= 77


def _clean_env(**extra: str) -> dict[str, str]:
    """This environment without what would make another flowsim importable."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, **extra}


def _ignore_outside_the_distributions(folder: str, names: list[str]) -> set[str]:
    ignored = {n for n in names if n == "__pycache__" or n.endswith(".egg-info")}
    if Path(folder) == ROOT:
        ignored |= NOT_COPIED & set(names)
    return ignored


@pytest.fixture(scope="module")
def distributions(tmp_path_factory) -> tuple[Path, Path]:
    """(sdist, wheel), the wheel built from the sdist."""
    if not _can_build():
        pytest.skip(BUILD_TOOLS_MISSING)
    work = tmp_path_factory.mktemp("build")
    source = work / "flowsim-source"
    shutil.copytree(ROOT, source, ignore=_ignore_outside_the_distributions, symlinks=True)
    out = work / "dist"
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        env=_clean_env(),
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [sdist] = out.glob("flowsim-*.tar.gz")
    [wheel] = out.glob("flowsim-*.whl")
    return sdist, wheel


# --- the wheel ----------------------------------------------------------------------------


def test_the_wheel_holds_the_examples_py_typed_and_the_licence(distributions):
    _, wheel = distributions
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        shipped = {
            name.removeprefix("flowsim/example_files/"): archive.read(name)
            for name in names
            if name.startswith("flowsim/example_files/")
        }
        [metadata_name] = [n for n in names if n.endswith(".dist-info/METADATA")]
        wheel_metadata = archive.read(metadata_name).decode()
        licences = [
            n for n in names if n.endswith((".dist-info/LICENSE", ".dist-info/licenses/LICENSE"))
        ]
        assert len(licences) == 1, sorted(n for n in names if ".dist-info/" in n)
        assert archive.read(licences[0]) == (ROOT / "LICENSE").read_bytes()
    assert "flowsim/py.typed" in names
    # Every example, byte for byte: the scenarios, the sweeps, the calibration, sources.md.
    assert set(shipped) == set(EXAMPLES)
    for name, path in EXAMPLES.items():
        assert shipped[name] == path.read_bytes(), name
    for path in (*SHIPPED_SCENARIOS, *SWEEPS, CALIBRATION):
        assert path.relative_to(SCENARIO_FOLDER).as_posix() in shipped
    assert len(SHIPPED_SCENARIOS) >= 7 and len(SWEEPS) >= 3
    assert "sources.md" in shipped
    # Only the package and its metadata: no tests, no repository folders.
    assert {n.split("/")[0] for n in names} == {"flowsim", metadata_name.split("/")[0]}
    assert "License-Expression: MIT" in wheel_metadata
    assert "Classifier: Typing :: Typed" in wheel_metadata


def test_the_sdist_holds_what_its_tests_read_and_import(distributions):
    sdist, _ = distributions
    with tarfile.open(sdist) as archive:
        members = {m.name.split("/", 1)[1] for m in archive.getmembers() if "/" in m.name}
    expected = {
        path.relative_to(ROOT).as_posix()
        for folder in SDIST_FOLDERS
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    missing = expected - members
    assert not missing, sorted(missing)[:20]
    assert {"tests/test_packaging.py", "scenarios/venezuela_sanctions.toml"} <= members
    assert set(SDIST_FILES) <= members
    assert not {m for m in members if m.startswith(("results/", ".git/", ".venv/", ".venv-min/"))}


# --- a wheel on its own -------------------------------------------------------------------


def _fresh_venv(root: Path, wheel: Path) -> Path:
    """A virtual environment holding only the wheel's flowsim; its dependencies are
    those of this one, seen through a .pth file (which runs none of the .pth files
    there, so the editable flowsim of a checkout stays out of sight)."""
    venv = root / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        env=_clean_env(),
    ).stdout.strip()
    dependencies = sysconfig.get_paths()["purelib"]
    (Path(site) / "flowsim_test_dependencies.pth").write_text(dependencies + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check"]
    installed = subprocess.run(
        [*pip, "install", "--no-deps", "--no-index", "--quiet", str(wheel)],
        capture_output=True,
        text=True,
        env=_clean_env(),
        timeout=300,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return venv


def test_a_wheel_in_a_fresh_venv_copies_its_examples_and_runs_one(distributions, tmp_path):
    _, wheel = distributions
    venv = _fresh_venv(tmp_path, wheel)
    work = tmp_path / "work"  # no repository here: scenarios/ is not beside it
    work.mkdir()
    env = _clean_env(PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(argv), cwd=work, env=env, capture_output=True, text=True, timeout=300
        )

    where = run(str(venv / "bin" / "python"), "-c", "import flowsim; print(flowsim.__file__)")
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).resolve().is_relative_to(venv.resolve()), where.stdout

    flowsim_script = str(venv / "bin" / "flowsim")
    copied = run(flowsim_script, "examples", "copy", "x")
    assert copied.returncode == 0, copied.stderr
    assert "next: flowsim run x/venezuela_sanctions.toml" in copied.stdout
    assert "wrote x/sweeps/smoke.toml" in copied.stdout
    assert (work / "x" / "sources.md").read_bytes() == SOURCES_TABLE.read_bytes()

    ran = run(flowsim_script, "run", "x/venezuela_sanctions.toml", "--seed", "1", "--no-report")
    assert ran.returncode == 0, ran.stderr
    assert "baseline venezuela_baseline" in ran.stdout
    for name in ("venezuela_sanctions", "venezuela_baseline"):
        summary = work / "results" / name / "summary.json"
        assert summary.is_file(), sorted(str(p) for p in work.rglob("*"))
    assert not (work / "results" / "venezuela_sanctions" / "report.html").exists()

    listed = run(flowsim_script, "examples", "list")
    assert listed.returncode == 0, listed.stderr
    assert "venezuela_sanctions.calibration.toml" in listed.stdout

    version = run(str(venv / "bin" / "python"), "-m", "flowsim", "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"flowsim {flowsim.__version__}"


# --- flowsim examples, from this checkout ----------------------------------------------------


def _description(path: Path) -> str:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    table = data.get("sweep") or data.get("meta") or {}
    return " ".join(str(table.get("description", "")).split())


def test_examples_list_names_each_file_with_its_description():
    code, out, err = call_main(["examples", "list"])
    assert code == 0, err
    lines = out.splitlines()
    for name, path in EXAMPLES.items():
        [line] = [line for line in lines if line.split("  ")[0] == name]
        if path in (*SHIPPED_SCENARIOS, *SWEEPS):
            assert line.endswith(_description(path)) and _description(path), line
    calibration = next(line for line in lines if line.startswith(CALIBRATION.name))
    assert "venezuela_sanctions.toml" in calibration and "held out" in calibration
    assert "flowsim examples copy" in out


def test_a_bare_examples_command_prints_its_help():
    code, out, _ = call_main(["examples"])
    assert code == 0
    assert out.startswith("usage: flowsim examples") and "copy" in out and "list" in out


def test_examples_copy_creates_the_folder_and_copies_every_file_as_it_is(tmp_path):
    folder = tmp_path / "new" / "examples"
    code, out, err = call_main(["examples", "copy", str(folder)])
    assert code == 0, err
    copied = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert copied == {*EXAMPLES, ".taplo.toml"}  # and no temporary file left
    for name, path in EXAMPLES.items():
        copy, original = (folder / name).read_bytes(), path.read_bytes()
        if original.startswith(b"#:schema"):  # pointed at the copy's schema/ instead
            assert copy.split(b"\n", 1)[1] == original.split(b"\n", 1)[1], name
        else:
            assert copy == original, name
        assert f"wrote {folder / name}" in out
    assert f"next: flowsim run {folder / 'venezuela_sanctions.toml'}" in out


def test_the_copied_files_still_find_each_other(tmp_path):
    """extends, meta.baseline, a sweep's ../ and the calibration's scenario, from a copy."""
    flowsim.copy_examples(tmp_path)
    for path in SHIPPED_SCENARIOS:
        scenario = flowsim.load_scenario(tmp_path / path.name)
        assert all(Path(f).resolve().is_relative_to(tmp_path.resolve()) for f in scenario.files)
        if scenario.baseline_file is not None:
            assert Path(scenario.baseline_file).resolve().parent == tmp_path.resolve()
    for path in SWEEPS:
        flowsim.load_sweep_file(tmp_path / "sweeps" / path.name)
    _, base = flowsim.load_calibration_file(tmp_path / CALIBRATION.name)
    assert base.name == "venezuela_sanctions"


def test_a_second_copy_writes_nothing_and_says_so(tmp_path):
    assert call_main(["examples", "copy", str(tmp_path)])[0] == 0
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    code, out, err = call_main(["examples", "copy", str(tmp_path)])
    assert code == 0, err
    assert "wrote" not in out and "holds every example already" in out
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before


def test_a_different_file_in_the_way_is_refused_by_name_and_nothing_is_written(tmp_path):
    mine = tmp_path / "sweeps" / "smoke.toml"
    mine.parent.mkdir()
    mine.write_text("# my own sweep\n")
    code, out, err = call_main(["examples", "copy", str(tmp_path)])
    assert code == 2
    assert f"error: cannot copy the examples to {mine}: a different file is there" in err
    assert "Traceback" not in err and "wrote" not in out
    assert mine.read_text() == "# my own sweep\n"
    assert sorted(tmp_path.rglob("*")) == [mine.parent, mine]


@pytest.mark.parametrize("in_the_way", ["folder", "sweeps", "symlink"])
def test_a_file_or_link_where_the_copy_goes_is_refused(tmp_path, in_the_way):
    folder = tmp_path / "examples"
    if in_the_way == "folder":
        folder.write_text("a file\n")
        blocked = folder
    elif in_the_way == "sweeps":
        folder.mkdir()
        blocked = folder / "sweeps"
        blocked.write_text("a file\n")
    else:
        folder.mkdir()
        blocked = folder / "venezuela_sanctions.toml"
        blocked.symlink_to(tmp_path / "elsewhere.toml")  # dangling: a write would follow it
    code, _, err = call_main(["examples", "copy", str(folder)])
    assert code == 2
    assert f"{blocked}: it is" in err, err
    assert not (tmp_path / "elsewhere.toml").exists()
    assert len([p for p in tmp_path.rglob("*") if p.name.endswith(".toml")]) <= 1


def test_a_file_that_appears_after_the_check_is_not_replaced(tmp_path, monkeypatch):
    target = tmp_path / "venezuela_baseline.toml"

    def appears_meanwhile(folder: Path, path: Path, data: bytes) -> None:
        if path == target:
            target.write_text("written by someone else\n")

    monkeypatch.setattr(examples_module, "_refuse_what_is_in_the_way", appears_meanwhile)
    with pytest.raises(flowsim.FlowsimError, match="a file appeared there"):
        flowsim.copy_examples(tmp_path)
    assert target.read_text() == "written by someone else\n"
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_an_installation_without_the_examples_says_so(tmp_path, monkeypatch):
    bare = tmp_path / "site-packages" / "flowsim"
    bare.mkdir(parents=True)
    monkeypatch.setattr(examples_module.resources, "files", lambda package: bare)
    code, _, err = call_main(["examples", "list"])
    assert code == 2
    assert "this installation of flowsim has no example files" in err
    assert "Traceback" not in err


# --- python -m flowsim --------------------------------------------------------------------


def test_python_m_flowsim_is_the_command_line_with_its_exit_codes(tmp_path):
    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "flowsim", *argv],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    version = run("--version")
    assert (version.returncode, version.stdout.strip()) == (0, f"flowsim {flowsim.__version__}")
    missing = run("validate", "no_such_file.toml")
    assert missing.returncode == 2
    assert "no_such_file.toml" in missing.stderr and "Traceback" not in missing.stderr
    listed = run("examples", "list", "-q")
    assert listed.returncode == 0 and "venezuela_sanctions.toml" in listed.stdout
