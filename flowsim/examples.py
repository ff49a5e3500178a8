"""The example scenarios, sweeps and calibration file, and the sources table they cite:
listed, and copied into a folder of the user's to start from.

A wheel carries them as flowsim/example_files/ (setup.py copies them in at build time);
a checkout, editable installs included, reads the repository's own scenarios/ and
docs/sources.md, so that the repository holds one copy. Either way a copy is laid out
as the wheel's folder is: the scenarios and sources.md at the top, the sweeps in sweeps/.
The files name each other relatively (``extends``, ``meta.baseline``, a sweep's
``../``, a calibration's ``scenario``), so a copy runs as the originals do.
"""

from __future__ import annotations

import errno
import os
import secrets
import tomllib
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal

from flowsim.errors import FlowsimError
from flowsim.folders import check_path

__all__ = ["CopiedExamples", "Example", "copy_examples", "example_files", "list_examples"]

# The wheel's folder of examples inside the package (setup.py's EXAMPLE_FILES).
PACKAGED = "example_files"
SOURCES = "sources.md"
SWEEPS = "sweeps"
CALIBRATION_SUFFIX = ".calibration.toml"
# The scenario `make run` runs: the one a new user is pointed to first.
FIRST_SCENARIO = "venezuela_sanctions.toml"

SCHEMAS = "schema"
TAPLO = ".taplo.toml"
# What the directive of a file of the repository points at: a copy has its schemas in
# schema/ instead (_for_the_copy).
REPOSITORY_SCHEMAS = "docs/schema/"
SCHEMA_DIRECTIVE = b"#:schema "
# A copy's Taplo configuration, for its layout (docs/editors.md): the repository's own
# .taplo.toml names scenarios/ and docs/schema/, which a copy does not have.
COPY_TAPLO = f"""\
# Which JSON Schema checks which file, for editors built on Taplo (VS Code's Even Better
# TOML) and the Taplo CLI, run from this folder. Written by flowsim examples copy.

[[rule]]
include = ["*.toml"]
exclude = ["{SWEEPS}/*.toml", "*{CALIBRATION_SUFFIX}"]
[rule.schema]
path = "{SCHEMAS}/scenario.partial.schema.json"

[[rule]]
include = ["*{CALIBRATION_SUFFIX}"]
[rule.schema]
path = "{SCHEMAS}/calibration.schema.json"

[[rule]]
include = ["{SWEEPS}/*.toml"]
[rule.schema]
path = "{SCHEMAS}/sweep.schema.json"
"""

Kind = Literal["scenario", "calibration", "sweep", "sources", "schema", "editor"]
_ORDER: dict[str, int] = {
    "scenario": 0,
    "calibration": 1,
    "sweep": 2,
    "sources": 3,
    "schema": 4,
    "editor": 5,
}


@dataclass(frozen=True)
class Example:
    """One example file: its path in a copy (with /), what it is, and one line about it."""

    name: str
    kind: Kind
    description: str


@dataclass(frozen=True)
class CopiedExamples:
    """What :func:`copy_examples` did: the files it wrote, those already there with the
    same bytes (left as they were), and the scenario to run first."""

    folder: Path
    written: tuple[Path, ...]
    unchanged: tuple[Path, ...]
    first_scenario: Path


def list_examples() -> list[Example]:
    """Every example file, scenarios first, then the calibration, the sweeps, the sources."""
    found = [_describe(name, source) for name, source in example_files().items()]
    taplo = (
        "Which schema checks which file, for editors built on Taplo (VS Code's Even Better TOML)."
    )
    return [*found, Example(TAPLO, "editor", taplo)]


def copy_examples(folder: Path) -> CopiedExamples:
    """Copy every example file into ``folder``, creating it. A file already there is
    left alone if it holds the same bytes; any other file in the way is refused, before
    anything is written. Nothing is ever deleted or replaced."""
    folder = Path(folder)
    check_path(folder, "cannot copy the examples into")
    files = {
        name: _for_the_copy(name, source.read_bytes()) for name, source in example_files().items()
    }
    files[TAPLO] = COPY_TAPLO.encode()
    targets = {name: folder.joinpath(*name.split("/")) for name in files}
    for name, target in targets.items():
        check_path(target, "cannot copy the examples to", temporary=True)
        _refuse_what_is_in_the_way(folder, target, files[name])
    written, unchanged = [], []
    for name, target in targets.items():
        if _holds(target, files[name]):
            unchanged.append(target)
            continue
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            _write_new_file(target, files[name])
        except FileExistsError:
            raise FlowsimError(
                f"cannot copy the examples to {target}: a file appeared there while copying; "
                "nothing there was replaced"
            ) from None
        except OSError as exc:
            raise FlowsimError(
                f"cannot copy the examples to {target}: {exc.strerror or exc}"
            ) from None
        written.append(target)
    return CopiedExamples(folder, tuple(written), tuple(unchanged), folder / FIRST_SCENARIO)


# --- where the examples are ---------------------------------------------------------------


def _for_the_copy(name: str, data: bytes) -> bytes:
    """A file's bytes in a copy: its #:schema line pointing at the copy's schema/."""
    if not data.startswith(SCHEMA_DIRECTIVE):
        return data
    first, newline, rest = data.partition(b"\n")
    target = first[len(SCHEMA_DIRECTIVE) :].decode("utf-8").strip()
    if REPOSITORY_SCHEMAS not in target:
        return data
    schema = target.rpartition("/")[2]
    up = "../" * name.count("/")
    return f"#:schema {up}{SCHEMAS}/{schema}".encode() + newline + rest


def example_files() -> dict[str, Traversable]:
    """Each example file by its path in a copy, in the order of :func:`list_examples`."""
    found = _find_example_files()
    return {name: found[name] for name in sorted(found, key=lambda n: (_ORDER[_kind(n)], n))}


def _find_example_files() -> dict[str, Traversable]:
    package = resources.files("flowsim")
    packaged = package / PACKAGED
    if packaged.is_dir():
        return dict(_walk(packaged, ""))
    # A checkout: the repository's scenarios/ and docs/sources.md beside the package.
    if isinstance(package, Path):
        root = package.parent
        scenarios, sources = root / "scenarios", root / "docs" / SOURCES
        schemas = root / REPOSITORY_SCHEMAS
        if scenarios.is_dir() and sources.is_file():
            found = {
                p.relative_to(scenarios).as_posix(): p for p in sorted(scenarios.rglob("*.toml"))
            }
            found |= {f"{SCHEMAS}/{p.name}": p for p in sorted(schemas.glob("*.schema.json"))}
            return {**found, SOURCES: sources}
    raise FlowsimError(
        f"this installation of flowsim has no example files ({package}/{PACKAGED} is "
        "missing): install flowsim from its wheel or sdist, whose build puts them there"
    )


def _walk(folder: Traversable, prefix: str) -> list[tuple[str, Traversable]]:
    found: list[tuple[str, Traversable]] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            found.extend(_walk(entry, f"{prefix}{entry.name}/"))
        elif (
            entry.name.endswith(".toml")
            or f"{prefix}{entry.name}" == SOURCES
            or (prefix == f"{SCHEMAS}/" and entry.name.endswith(".schema.json"))
        ):
            found.append((f"{prefix}{entry.name}", entry))
    return found


def _kind(name: str) -> Kind:
    if name == SOURCES:
        return "sources"
    if name.startswith(f"{SCHEMAS}/"):
        return "schema"
    if name.startswith(f"{SWEEPS}/"):
        return "sweep"
    return "calibration" if name.endswith(CALIBRATION_SUFFIX) else "scenario"


def _describe(name: str, source: Traversable) -> Example:
    kind = _kind(name)
    if kind == "sources":
        return Example(
            name, "sources", "The table of the public figures the examples cite, each by its id."
        )
    if kind == "schema":
        what = name.removeprefix(f"{SCHEMAS}/").removesuffix(".schema.json").replace(".", " ")
        return Example(name, kind, f"JSON Schema of a {what} file, for editors that check TOML.")
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, tomllib.TOMLDecodeError) as exc:
        # The files are flowsim's own: a broken one is a broken installation.
        raise FlowsimError(f"example {name} cannot be read ({source}): {exc}") from None
    if kind == "sweep":
        return Example(name, kind, _text(data, "sweep", "description"))
    if kind == "calibration":
        return Example(name, kind, _calibration_line(data))
    return Example(name, kind, _text(data, "meta", "description"))


def _text(data: dict, table: str, key: str) -> str:
    value = data.get(table, {}).get(key, "")
    return " ".join(str(value).split())  # one line, however the file wrapped it


def _calibration_line(data: dict) -> str:
    described = _text(data, "calibration", "description")
    if described:
        return described
    targets = data.get("targets", [])
    held_out = sum(1 for t in targets if t.get("held_out", False))
    scenario = data.get("calibration", {}).get("scenario", "its scenario")
    return (
        f"Fits {len(data.get('parameters', []))} unknowns of {scenario} to "
        f"{len(targets) - held_out} published figures; {held_out} more are held out "
        "to test the fit."
    )


# --- writing ------------------------------------------------------------------------------


def _refuse_what_is_in_the_way(folder: Path, target: Path, data: bytes) -> None:
    """FlowsimError, naming the path, if copying to ``target`` would replace anything."""
    on_the_way = [folder, *(folder / p for p in reversed(target.relative_to(folder).parents[:-1]))]
    for place in on_the_way:
        if (place.exists() or place.is_symlink()) and not place.is_dir():
            raise FlowsimError(
                f"cannot copy the examples into {place}: it is a file, not a folder; "
                "nothing written"
            )
    if not (target.exists() or target.is_symlink()):
        return
    if target.is_symlink() or not target.is_file():
        what = "a symbolic link" if target.is_symlink() else "not a file"
        raise FlowsimError(f"cannot copy the examples to {target}: it is {what}; nothing written")
    if not _holds(target, data):
        raise FlowsimError(
            f"cannot copy the examples to {target}: a different file is there, which flowsim "
            "will not replace; nothing written (copy into another folder, or move that file)"
        )


def _holds(path: Path, data: bytes) -> bool:
    if path.is_symlink() or not path.is_file():
        return False
    try:
        return path.read_bytes() == data
    except OSError as exc:
        raise FlowsimError(f"cannot read {path}: {exc.strerror or exc}") from None


# Where os.link fails because the file system has no hard links (or refuses them).
_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK}


def _write_new_file(path: Path, data: bytes) -> None:
    """Write a file that must not exist: through a temporary file beside it, linked into
    place, so that an interrupted copy leaves no half-written example and a file that
    appeared since the check is never replaced (FileExistsError)."""
    # Opened as a new file, not by mkstemp: the copy gets the user's usual permissions.
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(6)}")
    new = open(tmp, "xb")  # noqa: SIM115 - closed below; the temporary file is ours from here
    try:
        with new:
            new.write(data)
        os.link(tmp, path)
    except OSError as exc:
        if isinstance(exc, FileExistsError) or exc.errno not in _NO_HARD_LINKS:
            raise
        with open(path, "xb") as f:
            f.write(data)
    finally:
        tmp.unlink(missing_ok=True)
