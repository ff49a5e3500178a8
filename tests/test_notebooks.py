"""The notebooks: each runs top to bottom in a fresh kernel of this Python, is committed
without outputs, and writes nothing in the repository outside results/."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).parents[1]
NOTEBOOKS_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
EXPECTED = {
    "01_quickstart.ipynb",
    "02_sanctions_rerouting.ipynb",
    "03_raids_and_fuel.ipynb",
    "04_sweep_analysis.ipynb",
}
KERNEL = "python3"
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # colours in the kernel's tracebacks


class ThisPythonKernelManager(AsyncKernelManager):
    """Starts the "python3" kernel of the environment running the tests.

    Kernelspecs are looked up only in this environment's prefix, where ipykernel (from the
    notebooks extra) installs "python3". Its command starts with "python", which
    jupyter_client replaces with ``sys.executable``; if the folder is missing, ipykernel's
    built-in spec is used, which also runs ``sys.executable``. So a "python3" kernelspec of
    another interpreter (in ~/.local/share/jupyter, /usr/share/jupyter or JUPYTER_PATH)
    cannot be picked up. ``test_the_kernel_is_this_python`` checks the result.
    """

    def __init__(self, **kwargs):
        kernels = Path(sys.prefix, "share", "jupyter", "kernels")
        kwargs.setdefault("kernel_spec_manager", KernelSpecManager(kernel_dirs=[str(kernels)]))
        super().__init__(**kwargs)


def execute(nb: nbformat.NotebookNode) -> None:
    """Run every cell of ``nb`` in a fresh kernel, from the notebooks folder, in place."""
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name=KERNEL,
        kernel_manager_class=ThisPythonKernelManager,
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
    )
    client.execute()


# --- git status, to see what a notebook wrote ----------------------------------------------


def git_unavailable() -> str | None:
    """Why `git status` cannot be used here, or None."""
    if shutil.which("git") is None:
        return "git is not installed"
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--show-toplevel"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        return f"{ROOT} is not a git checkout"
    if Path(done.stdout.strip()).resolve() != ROOT.resolve():
        return f"{ROOT} is not the top of its git checkout"
    return None


def git_status() -> set[str]:
    """Entries of `git status` ("XY path") outside results/, every untracked file listed."""
    out = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain=v1", "-z", "--untracked-files=all"],
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8", errors="replace")
    fields = out.split("\0")
    entries = set()
    i = 0
    while i < len(fields):
        entry = fields[i]
        i += 1
        if not entry:
            continue
        status, path = entry[:2], entry[3:]
        if "R" in status or "C" in status:
            i += 1  # -z puts a rename's old path in the next field
        if path == "results" or path.startswith("results/"):
            continue
        entries.add(f"{status} {path}")
    return entries


# --- running each notebook once ----------------------------------------------------------------


@dataclass
class Execution:
    nb: nbformat.NotebookNode
    error: CellExecutionError | None
    seconds: float
    status_before: set[str] | None
    status_after: set[str] | None


@pytest.fixture(scope="module")
def executed() -> Callable[[Path], Execution]:
    """Run a notebook on first request, with `git status` before and after; keep the result."""
    done: dict[Path, Execution] = {}
    use_git = git_unavailable() is None

    def run(path: Path) -> Execution:
        if path not in done:
            nb = nbformat.read(path, as_version=4)
            before = git_status() if use_git else None
            started = time.perf_counter()
            error = None
            try:
                execute(nb)
            except CellExecutionError as exc:
                error = exc
            seconds = time.perf_counter() - started
            after = git_status() if use_git else None
            done[path] = Execution(nb, error, seconds, before, after)
        return done[path]

    return run


def test_the_four_notebooks_are_there():
    assert {path.name for path in NOTEBOOKS} >= EXPECTED


def test_the_kernel_is_this_python():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import os, sys\nprint(sys.prefix)\nprint(os.getcwd())")]
    execute(nb)
    outputs = nb.cells[0].outputs
    text = "".join(out.get("text", "") for out in outputs if out.get("name") == "stdout")
    prefix, cwd = text.splitlines()[:2]
    assert Path(prefix) == Path(sys.prefix), f"the kernel runs in {prefix}, not in {sys.prefix}"
    assert Path(cwd).resolve() == NOTEBOOKS_DIR.resolve()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_without_error(path, executed):
    run = executed(path)
    if run.error is not None:
        message = ANSI.sub("", str(run.error))
        pytest.fail(f"{path.name} raised in a cell:\n{message}", pytrace=False)
    errors = [
        out
        for cell in run.nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error"
    ]
    assert not errors, f"{path.name}: {errors[0].ename}: {errors[0].evalue}"
    print(f"{path.name}: {run.seconds:.1f} s")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_writes_nothing_outside_results(path, executed):
    reason = git_unavailable()
    if reason is not None:
        pytest.skip(f"cannot compare `git status` before and after the notebook: {reason}")
    run = executed(path)
    new = sorted(run.status_after - run.status_before)
    assert not new, (
        f"{path.name} changed files outside results/: {new} "
        "(or another process edited them in this working tree while the notebook ran)"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == KERNEL
    for number, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert cell.outputs == [], f"{path.name}: cell {number} has outputs"
        assert cell.execution_count is None, f"{path.name}: cell {number} has an execution count"
    assert nb.cells and nb.cells[0].cell_type == "markdown", "a notebook starts with a text cell"
