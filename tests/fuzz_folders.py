"""Folder fuzzing: folders flowsim wrote, damaged at random, and folders it did not write.

Shared by ``tests/test_fuzz.py`` (the quick profile) and ``tools/fuzz.py``
(``make fuzz``). Each kind is a hypothesis strategy of a damage, applied to a
fresh copy of a folder that flowsim wrote once per process, and a property:

- ``tampered_run``: one random edit of a run folder (a listed file truncated,
  a byte flipped, two files swapped, a file deleted or added, a manifest key
  dropped or given another type, the manifest replaced by other JSON).
  ``flowsim report`` and ``flowsim compare`` exit 0 or 2, never with a
  traceback; an exit 2 is one message naming a file of the folder; a change to
  any table or to ``summary.json`` that a command reads is always exit 2.
- ``foreign_folder``: a folder of random files, maybe with a ``manifest.json``
  or a ``design.json`` of random JSON. ``flowsim run --out`` and ``flowsim
  sweep --overwrite --out`` exit 2 and leave every byte of it as it was.
- ``tampered_sweep``: random damage to a finished sweep's files (sweep.parquet) and
  ``manifest.jsonl`` (truncated, flipped, swapped, deleted; lines cut,
  repeated or replaced by random JSON). ``flowsim sweep --resume`` exits 0 and
  the table equals the undamaged one; or, where the damage leaves a
  ``sweep.parquet`` that neither its line nor its metadata shows to be the
  sweep's, exits 2 naming it, leaves it as it was, and finishes once it is moved.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from fuzz_strategies import call_main, to_toml
from hypothesis import strategies as st
from networks import chain

import flowsim
from flowsim.folders import run_files

__all__ = ["FOLDER_KINDS", "FOLDER_KIND_WEIGHTS"]

_CACHE: dict[str, Path] = {}
SWEEP = (
    '[sweep]\nname = "fz"\nscenario = "s.toml"\nreplications = 2\n\n'
    '[parameters]\n"routes.mine_buyer.seizure_probability" = [0.0, 0.3]\n'
)


def _base() -> Path:
    """A folder with a scenario, a run folder and a finished sweep, made once."""
    if "base" in _CACHE and _CACHE["base"].is_dir():
        return _CACHE["base"]
    folder = Path(tempfile.mkdtemp(prefix="flowsim-fuzz-folders-"))
    (folder / "s.toml").write_text(to_toml(chain(20)))
    (folder / "sweep.toml").write_text(SWEEP)
    assert call_main(["run", str(folder / "s.toml"), "--out", str(folder / "run")])[0] == 0
    argv = ["sweep", str(folder / "sweep.toml"), "--out", str(folder / "sweep"), "--workers", "1"]
    assert call_main(argv)[0] == 0
    _CACHE["base"] = folder
    return folder


def _copy(workdir: Path) -> Path:
    base = _base()
    shutil.copy(base / "s.toml", workdir / "s.toml")
    shutil.copy(base / "sweep.toml", workdir / "sweep.toml")
    shutil.copytree(base / "run", workdir / "run")
    shutil.copytree(base / "sweep", workdir / "sweep")
    return workdir


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


# --- tampered run folders -------------------------------------------------------------


@dataclass(frozen=True)
class RunDamage:
    how: str
    which: int  # index of the file (or key) it applies to, modulo their number
    other: int
    where: float  # a position, as a share of the file
    value: Any = None


RUN_DAMAGE = st.builds(
    RunDamage,
    how=st.sampled_from(
        [
            "truncate",
            "flip",
            "swap",
            "delete",
            "add_file",
            "drop_key",
            "retype_key",
            "replace_manifest",
            "empty_file",
        ]
    ),
    which=st.integers(0, 1000),
    other=st.integers(0, 1000),
    where=st.floats(0.0, 1.0),
    value=JSON,
)

READ_BY = {
    "report": {f"{t}.parquet" for t in ("ledger", "receipts", "melts", "nodes", "routes")}
    | {f"{t}.parquet" for t in ("categories", "end_state", "runs")},
    "compare": {"summary.json"},
}


def apply_run_damage(run: Path, damage: RunDamage) -> None:
    names = sorted(p.name for p in run.iterdir() if p.name != "manifest.json")
    name = names[damage.which % len(names)]
    path = run / name
    manifest_path = run / "manifest.json"
    if damage.how == "truncate":
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * damage.where)])
    elif damage.how == "flip":
        data = bytearray(path.read_bytes())
        if data:
            data[min(int(len(data) * damage.where), len(data) - 1)] ^= 1 + damage.other % 255
        path.write_bytes(bytes(data))
    elif damage.how == "swap":
        other = run / names[damage.other % len(names)]
        a, b = path.read_bytes(), other.read_bytes()
        path.write_bytes(b)
        other.write_bytes(a)
    elif damage.how == "delete":
        path.unlink()
    elif damage.how == "empty_file":
        path.write_bytes(b"")
    elif damage.how == "add_file":
        (run / f"notes-{damage.which}.txt").write_text(json.dumps(damage.value))
    else:
        manifest = json.loads(manifest_path.read_text())
        keys = sorted(manifest)
        key = keys[damage.which % len(keys)]
        if damage.how == "drop_key":
            manifest.pop(key)
        elif damage.how == "retype_key":
            manifest[key] = damage.value
        else:
            manifest = damage.value
        manifest_path.write_text(json.dumps(manifest))


def check_tampered_run(damage: RunDamage, workdir: Path) -> None:
    folder = _copy(workdir)
    run = folder / "run"
    before = _snapshot(run)
    apply_run_damage(run, damage)
    after = _snapshot(run)
    changed = {n for n in set(before) | set(after) if before.get(n) != after.get(n)}
    for command, argv in (
        ("report", ["report", str(run), "--out", str(folder / "page.html")]),
        ("compare", ["compare", str(run), str(run)]),
    ):
        code, _, err = call_main(argv)
        assert "Traceback" not in err, err
        assert code in (0, 2), (command, code, err)
        if code == 2:
            errors = [line for line in err.splitlines() if line.startswith("error:")]
            assert len(errors) == 1, err
            assert str(run) in errors[0], err
        if changed & READ_BY[command]:
            assert code == 2, f"{command} read a changed {sorted(changed & READ_BY[command])}"
    try:
        flowsim.Results.load(run)
    except flowsim.FlowsimError:
        pass
    else:
        assert not changed & READ_BY["report"], "Results.load read a changed table"


# --- foreign folders ----------------------------------------------------------------------

NAMES = st.text(
    alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters="._-"),
    min_size=1,
    max_size=12,
).filter(lambda n: n not in (".", ".."))


@dataclass(frozen=True)
class Foreign:
    files: dict[str, bytes]
    manifest: Any
    design: Any


FOREIGN = st.builds(
    Foreign,
    files=st.dictionaries(NAMES, st.binary(max_size=64), max_size=4),
    manifest=st.none() | JSON,
    design=st.none() | JSON,
)


def check_foreign_folder(foreign: Foreign, workdir: Path) -> None:
    folder = _copy(workdir)
    out = folder / "theirs"
    out.mkdir()
    for name, data in foreign.files.items():
        (out / name).write_bytes(data)
    for name, value in (("manifest.json", foreign.manifest), ("design.json", foreign.design)):
        if value is not None:
            (out / name).write_text(json.dumps(value))
    before = _snapshot(out)
    if not before:
        return  # an empty folder is anyone's to fill
    for argv in (
        ["run", str(folder / "s.toml"), "--out", str(out), "--no-report"],
        ["sweep", str(folder / "sweep.toml"), "--out", str(out), "--overwrite", "--workers", "1"],
    ):
        code, _, err = call_main(argv)
        assert "Traceback" not in err, err
        if code == 0 and argv[0] == "run":
            # Only a folder that carries flowsim's signature, and nothing it did not list,
            # may be replaced.
            owned = run_files_or_none(out, before)
            assert owned, f"replaced a folder flowsim did not write: {sorted(before)}"
            return
        assert code == 2, (argv[0], code, err)
        assert _snapshot(out) == before, f"{argv[0]} changed a folder it did not write"


def run_files_or_none(out: Path, before: dict[str, bytes]) -> bool:
    """Whether the folder as it was carried a flowsim run signature listing all of it."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "was"
        copy.mkdir()
        for name, data in before.items():
            (copy / name).write_bytes(data)
        try:
            owned = run_files(copy)
        except flowsim.FlowsimError:
            return False
        return set(before) <= owned.names()


# --- tampered sweeps ----------------------------------------------------------------------


@dataclass(frozen=True)
class SweepDamage:
    edits: tuple[tuple[str, int, int, float], ...]
    line: Any


SWEEP_EDIT = st.tuples(
    st.sampled_from(
        ["truncate", "flip", "swap", "delete", "cut_log", "repeat_line", "junk_line", "drop_line"]
    ),
    st.integers(0, 1000),
    st.integers(0, 1000),
    st.floats(0.0, 1.0),
)
SWEEP_DAMAGE = st.builds(
    SweepDamage, edits=st.lists(SWEEP_EDIT, min_size=1, max_size=4).map(tuple), line=JSON
)


def apply_sweep_damage(out: Path, damage: SweepDamage) -> None:
    # A finished sweep holds sweep.parquet, and parts only if compaction was cut short.
    parts = sorted((out / "parts").glob("run-*.parquet")) + sorted(out.glob("sweep.parquet"))
    log = out / "manifest.jsonl"
    for how, which, other, where in damage.edits:
        lines = log.read_text().splitlines(keepends=True)
        live = [p for p in parts if p.exists()]
        if how in ("truncate", "flip", "swap", "delete") and live:
            path = live[which % len(live)]
            data = bytearray(path.read_bytes())
            if how == "truncate":
                path.write_bytes(bytes(data[: int(len(data) * where)]))
            elif how == "flip" and data:
                data[min(int(len(data) * where), len(data) - 1)] ^= 1 + other % 255
                path.write_bytes(bytes(data))
            elif how == "swap":
                partner = live[other % len(live)]
                swapped = partner.read_bytes()
                partner.write_bytes(bytes(data))
                path.write_bytes(swapped)
            elif how == "delete":
                path.unlink()
        elif how == "cut_log":
            text = log.read_bytes()
            log.write_bytes(text[: int(len(text) * where)])
        elif how == "repeat_line" and lines:
            lines.insert(which % len(lines), lines[other % len(lines)])
            log.write_text("".join(lines))
        elif how == "junk_line":
            lines.insert(which % (len(lines) + 1), json.dumps(damage.line) + "\n")
            log.write_text("".join(lines))
        elif how == "drop_line" and lines:
            lines.pop(which % len(lines))
            log.write_text("".join(lines))


def _table(out: Path) -> pd.DataFrame:
    return flowsim.load_sweep(out).sort_values(["run", "metric"]).reset_index(drop=True)


def check_tampered_sweep(damage: SweepDamage, workdir: Path) -> None:
    folder = _copy(workdir)
    out = folder / "sweep"
    reference = _table(_base() / "sweep")
    apply_sweep_damage(out, damage)
    with contextlib.suppress(flowsim.FlowsimError):  # a damaged part is named, not read
        flowsim.load_sweep(out)
    argv = ["sweep", str(folder / "sweep.toml"), "--out", str(out), "--resume", "--workers", "1"]
    compacted = out / "sweep.parquet"
    before = compacted.read_bytes() if compacted.is_file() else None
    code, _, err = call_main(argv)
    if code == 2 and "sweep.parquet: this sweep did not write it" in err:
        # Damaged past recognition, and no line vouches for it: flowsim does not replace
        # it, and leaves it as it was; moved away, the sweep finishes.
        assert "Traceback" not in err and compacted.read_bytes() == before
        compacted.rename(folder / "moved-away.parquet")
        code, _, err = call_main(argv)
    assert code == 0 and "Traceback" not in err, err
    pd.testing.assert_frame_equal(_table(out), reference)


FOLDER_KINDS = {
    "tampered_run": (RUN_DAMAGE, check_tampered_run),
    "foreign_folder": (FOREIGN, check_foreign_folder),
    "tampered_sweep": (SWEEP_DAMAGE, check_tampered_sweep),
}
# Each example copies folders and runs commands: fewer of them than of a scenario kind.
FOLDER_KIND_WEIGHTS = {"tampered_run": 0.5, "foreign_folder": 0.5, "tampered_sweep": 0.3}
