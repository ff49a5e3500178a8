"""Loading scenario files: TOML, ``extends``, ``--set`` overrides, and clear errors.

``load_scenario(path)`` reads a file, merges the files it extends, applies
overrides, validates the result with the models of :mod:`flowsim.schema` and
the whole-scenario checks of :mod:`flowsim.checks`, and returns a frozen
:class:`~flowsim.schema.Scenario`. Every problem is reported as an
:class:`~flowsim.errors.Issue` naming the file, the key path and the reason.
"""

from __future__ import annotations

import copy
import datetime
import difflib
import hashlib
import json
import os
import re
import stat
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from flowsim.checks import check_scenario
from flowsim.errors import Issue, ScenarioError
from flowsim.findings import Aliases, closest, node_aliases
from flowsim.schedules import is_date_key, put_dates_in_order
from flowsim.schema import REMOVED_KEYS, Fixed, Scenario, assumptions_in_texts
from flowsim.sources import cited_ids, sources_table

__all__ = [
    "ScenarioSource",
    "apply_overrides",
    "build_scenario",
    "issues_from_pydantic",
    "load_scenario",
    "parse_override",
    "read_scenario",
    "read_toml",
    "scenario_from_dict",
    "scenario_hash",
    "shared_overrides",
    "with_overrides",
]

KeyPath = tuple[str | int, ...]
# Which file (or which --set) gave each key, so an error names where to look.
Origins = dict[KeyPath, str]


def load_scenario(
    path: str | Path,
    overrides: Iterable[str] | Mapping[str, Any] = (),
) -> Scenario:
    """Read, merge, override and validate a scenario file.

    ``overrides`` are ``"key.path=value"`` strings, as given to ``--set``, or a
    mapping of key paths to values. Raises :class:`ScenarioError`.
    """
    return build_scenario(read_scenario(path), overrides)


@dataclass(frozen=True)
class ScenarioSource:
    """A scenario file as read, merged with the files it extends, before overrides:
    all that :func:`build_scenario` needs, so that a machine without the files (a
    Dask worker) builds the same scenario as the one that read them."""

    path: str
    data: dict[str, Any]
    origins: Origins
    files: tuple[str, ...]
    assumptions: tuple[dict[str, str | int], ...]
    citations: tuple[str, ...] = ()  # rows of docs/sources.md the files cite


def read_scenario(path: str | Path) -> ScenarioSource:
    """Read a scenario file and the files it extends; :class:`ScenarioError` if one
    cannot be read or is not TOML. Nothing is validated yet."""
    path = Path(path)
    # Each file is read once: its data, assumptions and citations come from one text.
    texts: dict[str, str] = {}
    data, origins = _read_with_parents(path, chain=(), texts=texts)
    files = tuple(dict.fromkeys([str(path), *origins.values()]))
    in_order = {file: texts[file] for file in files if file in texts}
    return ScenarioSource(
        str(path),
        data,
        origins,
        files,
        tuple(assumptions_in_texts(in_order)),
        tuple(cited_ids(in_order.values(), sources_table())),
    )


def build_scenario(
    source: ScenarioSource,
    overrides: Iterable[str] | Mapping[str, Any] = (),
    *,
    baseline_on_disk: bool = True,
) -> Scenario:
    """Apply overrides to a scenario as read and validate it; reads no file, except
    that ``meta.baseline`` must exist unless ``baseline_on_disk`` is false (a worker
    builds a scenario already checked where its files are)."""
    path = Path(source.path)
    origins = dict(source.origins)  # overrides add their keys to it
    data = apply_overrides(source.data, origins, overrides, file=source.path)
    scenario = scenario_from_dict(data, file=source.path, origins=origins)
    files = [f for f in dict.fromkeys(origins.values()) if f != "--set"]
    scenario._files = (source.path, *(f for f in files if f != source.path))
    scenario._assumptions = source.assumptions
    scenario._citations = source.citations
    scenario._baseline_file = _baseline_file(scenario, origins, path, on_disk=baseline_on_disk)
    return scenario


def _baseline_file(
    scenario: Scenario, origins: Origins, path: Path, on_disk: bool = True
) -> str | None:
    """meta.baseline as a path, from the folder of the file that gave it (the working
    folder for --set); refused if it is missing or is the scenario itself."""
    name = scenario.meta.baseline
    if name is None:
        return None
    given_in = origins.get(("meta", "baseline"), str(path))
    where = Path.cwd() if given_in == "--set" else Path(given_in).parent
    found = where / name
    if not on_disk:
        return str(found)
    if not _exists(found) or found.is_dir():
        what = "a folder, not a scenario file" if _exists(found) else "file not found"
        raise ScenarioError(
            [Issue(given_in, "meta.baseline", f"{what}: {name} (looked in {where})")]
        )
    if found.resolve() == path.resolve():
        raise ScenarioError(
            [Issue(given_in, "meta.baseline", f"names the scenario itself ({name})")]
        )
    return str(found)


def scenario_from_dict(
    data: Mapping[str, Any], file: str = "<scenario>", origins: Origins | None = None
) -> Scenario:
    """Validate an already-parsed scenario (for notebooks and generated scenarios)."""
    origins = origins if origins is not None else {(): file}
    try:
        scenario = Scenario.model_validate(dict(data))
    except ValidationError as exc:
        issues = issues_from_pydantic(exc, origins)
        findings = _findings_in_the_rest(dict(data), exc)
        raise ScenarioError(issues + _issues_of(findings, origins)) from None
    issues = _issues_of(check_scenario(scenario), origins)
    if issues:
        raise ScenarioError(issues)
    return scenario


def _issues_of(findings: Iterable[tuple[KeyPath, str]], origins: Origins) -> list[Issue]:
    return [
        Issue(_file_for(path, origins), _format_path(path), message) for path, message in findings
    ]


# Each round takes out at least one key; a file would need this many nested mistakes.
MAX_PRUNING_ROUNDS = 20


def _findings_in_the_rest(data: dict[str, Any], exc: ValidationError) -> list[tuple[KeyPath, str]]:
    """The whole-scenario checks (unknown nodes, routes, partners...), run on what is left
    once every value the models refused is taken out, so that one pass reports both kinds
    of error. A finding that may come of what was taken out is left out; if what is left
    is not a scenario (a required table is broken), there are none."""
    rest = copy.deepcopy(data)
    pruned: list[KeyPath] = []
    for _ in range(MAX_PRUNING_ROUNDS):
        targets = [_prune_target(rest, _clean_loc(e["loc"], Scenario)[0]) for e in exc.errors()]
        if not targets or None in targets:
            return []
        for target in sorted(set(targets), key=len):
            if not any(target[: len(done)] == done for done in pruned):
                _delete(rest, target)
                pruned.append(target)
        try:
            scenario = Scenario.model_validate(rest)
        except ValidationError as again:
            exc = again
            continue
        findings = [f for f in check_scenario(scenario) if not _may_come_of(f, pruned, data)]
        if any(p[0] in ("nodes", "routes") for p in pruned):
            # The ids, regions and countries known are those of the nodes left.
            findings = [(path, _KNOWN_LIST.sub("", message)) for path, message in findings]
        return findings
    return []


_KNOWN_LIST = re.compile(r" \(known: [^()]*\)$")


def _prune_target(data: dict[str, Any], path: KeyPath) -> KeyPath | None:
    """The deepest key of a table on ``path`` that the data holds: the refused value
    itself, the table that lacks a required key, or the array that holds a bad item
    (an item taken out would renumber the others). None if that is the whole scenario."""
    found: KeyPath = ()
    node: Any = data
    for part in path:
        if not (isinstance(node, dict) and part in node):
            break
        found = (*found, part)
        node = node[part]
    return found or None


def _delete(data: dict[str, Any], path: KeyPath) -> None:
    table = data
    for part in path[:-1]:
        table = table[part]
    del table[path[-1]]


def _may_come_of(finding: tuple[KeyPath, str], pruned: list[KeyPath], data: Any) -> bool:
    """Whether a finding about the pruned scenario may be false of the file."""
    path, message = finding
    if len(path) <= 1:  # about the scenario as a whole
        return True
    if any(path[: len(p)] == p or p[: len(path)] == path for p in pruned):
        return True
    graph = ("nodes", "routes")
    if path[0] in graph and len(path) == 2 and any(p[0] in graph for p in pruned):
        return True  # reachability and cycles change when a node or a route does
    return any(f"'{name}'" in message for name in _names_in(pruned, data))


def _names_in(pruned: list[KeyPath], data: Any) -> set[str]:
    """The ids on the way to what was pruned, and every key and text inside it."""
    names: set[str] = set()
    for path in pruned:
        names.update(str(part) for part in path[1:])
        node = data
        for part in path:
            node = node[part]
        todo = [node]
        while todo:
            item = todo.pop()
            if isinstance(item, str):
                names.add(item)
            elif isinstance(item, dict):
                names.update(str(key) for key in item)
                todo.extend(item.values())
            elif isinstance(item, list):
                todo.extend(item)
    return names


def with_overrides(scenario: Scenario, overrides: Iterable[str] | Mapping[str, Any]) -> Scenario:
    """A copy of ``scenario`` with overrides applied and validated, as with --set."""
    # What the file said, not every default: checks and switches read which keys a file
    # sets (a route's declared turns papers on), and a default must not pass for one.
    data = scenario.model_dump(mode="python", by_alias=True, exclude_unset=True)
    origins: Origins = {(): f"<scenario {scenario.name}>"}
    data = apply_overrides(data, origins, overrides, file=origins[()])
    changed = scenario_from_dict(data, file=origins[()], origins=origins)
    changed._files = scenario.files
    changed._assumptions = scenario._assumptions
    changed._citations = scenario._citations
    changed._baseline_file = scenario._baseline_file
    return changed


def scenario_hash(scenario: Scenario) -> str:
    """A stable fingerprint of a scenario's content, for manifests."""
    # The [[expect]] rules judge a run and the baseline is what it is compared with:
    # neither changes it.
    content = scenario.model_dump(
        mode="json", by_alias=True, exclude={"expect": True, "meta": {"baseline"}}
    )
    # A place on the map changes no figure either; a node without one hashes as before.
    for node in content["nodes"].values():
        for key in ("lat", "lon"):
            if node.get(key) is None:
                node.pop(key, None)
    text = json.dumps(content, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


# --- files and extends --------------------------------------------------------


def read_toml(path: Path, texts: dict[str, str] | None = None) -> dict[str, Any]:
    """Parse a TOML file that must be a regular file of reasonable size; its text goes
    into ``texts``, under the path as given, if one is passed."""
    raw = _read_regular_file(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            [Issue(str(path), "", f"is not UTF-8 text (bad byte at offset {exc.start})")]
        ) from None
    if texts is not None:
        texts[str(path)] = text
    too_deep = ScenarioError(
        [Issue(str(path), "", f"nests tables or arrays more than {MAX_DEPTH} deep: not a scenario")]
    )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = f"is not valid TOML: {exc}{_toml_spelling_at(text, str(exc))}"
        raise ScenarioError([Issue(str(path), "", message)]) from None
    except RecursionError:
        raise too_deep from None
    except ValueError as exc:  # an integer of more than 4,300 digits, which Python refuses
        raise ScenarioError([Issue(str(path), "", f"holds a number too long: {exc}")]) from None
    if _depth(data) > MAX_DEPTH:
        raise too_deep
    return data


# Python's and YAML's words for true, false and nothing, which TOML reads as text or not at all.
_TOML_BOOLEANS = {"true": "true", "yes": "true", "on": "true"} | {
    "false": "false",
    "no": "false",
    "off": "false",
}
_NULLS = {"none", "null", "nil", "~"}


def _toml_spelling_hint(value: Any, expects_boolean: bool) -> str:
    """A hint for text that a user meant as TOML's ``true``, ``false`` or as nothing."""
    if not isinstance(value, str):
        return ""
    word = value.strip().lower()
    if expects_boolean and word in _TOML_BOOLEANS:
        meant = _TOML_BOOLEANS[word]
        quoted = ", without quotes" if value.strip() == meant else ""
        return f"; did you mean TOML's {meant}{quoted}?"
    if word in _NULLS:
        return "; TOML has no null: leave the key out to take its default"
    return ""


def _toml_spelling_at(text: str, error: str) -> str:
    """The hint for a bare ``False``, ``True`` or ``None`` where tomllib found an invalid value."""
    where = re.fullmatch(r"Invalid value \(at line (\d+), column (\d+)\)", error)
    lines = text.splitlines()
    if where is None or not 0 < int(where[1]) <= len(lines):
        return ""
    word = re.match(r"[A-Za-z~]+", lines[int(where[1]) - 1][int(where[2]) - 1 :])
    return _toml_spelling_hint(word[0], expects_boolean=True) if word else ""


# Scenario and sweep files are a few kilobytes; a larger one is not one of them.
MAX_FILE_BYTES = 16 * 1024 * 1024


def _read_regular_file(path: Path) -> bytes:
    """The bytes of ``path``, once it is shown to be a regular file that fits: a FIFO
    would block the read forever, and a device such as /dev/zero never end it."""
    where = str(path)

    def refuse(message: str) -> ScenarioError:
        return ScenarioError([Issue(where, "", message)])

    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise refuse("file not found") from None
    except UnicodeEncodeError:
        raise refuse("is not a valid file name in this file system's encoding") from None
    except ValueError:  # a NUL byte in the name
        raise refuse("is not a valid file name (it holds a NUL byte)") from None
    except OSError as exc:
        raise refuse(f"cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise refuse("is a folder, not a scenario file")
    if not stat.S_ISREG(info.st_mode):
        kind = "a FIFO (named pipe)" if stat.S_ISFIFO(info.st_mode) else "a device or socket"
        raise refuse(f"is {kind}, not a regular file: give a scenario file")
    if info.st_size > MAX_FILE_BYTES:
        raise refuse(
            f"is {info.st_size:,} bytes, larger than the {MAX_FILE_BYTES:,} a scenario or sweep "
            "file may be"
        )
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise refuse(f"cannot be read ({exc.strerror or exc})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise refuse(f"is larger than the {MAX_FILE_BYTES:,} bytes a scenario file may be")
    return raw


# A scenario nests about six deep; the loader walks files recursively.
MAX_DEPTH = 32


def _depth(data: Any) -> int:
    """How deep tables and arrays nest, found without recursion."""
    deepest = 0
    todo = [(data, 1)]
    while todo:
        node, level = todo.pop()
        deepest = max(deepest, level)
        if isinstance(node, dict):
            todo.extend((value, level + 1) for value in node.values())
        elif isinstance(node, list):
            todo.extend((value, level + 1) for value in node)
    return deepest


# How many files an ``extends`` chain may hold; real ones hold two or three.
MAX_EXTENDS = 32


def _read_with_parents(
    path: Path, chain: tuple[Path, ...], texts: dict[str, str] | None = None
) -> tuple[dict[str, Any], Origins]:
    try:
        resolved = path.resolve()
    except UnicodeEncodeError:
        message = "is not a valid file name in this file system's encoding"
        raise ScenarioError([Issue(str(path), "", message)]) from None
    except (OSError, RuntimeError, ValueError) as exc:
        raise ScenarioError([Issue(str(path), "", f"cannot be read ({exc})")]) from None
    if len(chain) >= MAX_EXTENDS:
        raise ScenarioError(
            [
                Issue(
                    str(path),
                    "extends",
                    f"the chain of files that extend one another is longer than {MAX_EXTENDS}",
                )
            ]
        )
    if resolved in chain:
        loop = " -> ".join(str(p.name) for p in (*chain, resolved))
        raise ScenarioError([Issue(str(path), "extends", f"extends itself in a loop: {loop}")])
    data = read_toml(path, texts)
    if not data:
        raise ScenarioError(
            [
                Issue(
                    str(path),
                    "",
                    "is empty: a scenario needs at least "
                    "[meta], [calendar], [prices], [nodes] and [routes]",
                )
            ]
        )
    parent_names = data.pop("extends", None)
    origins: Origins = {}
    _record_origins(data, (), str(path), origins)
    if parent_names is None:
        return data, origins
    if isinstance(parent_names, str):
        parent_names = [parent_names]
    if (
        not isinstance(parent_names, list)
        or not parent_names
        or not all(isinstance(name, str) for name in parent_names)
    ):
        raise ScenarioError(
            [Issue(str(path), "extends", "must be a file name or a list of file names")]
        )
    if len(set(parent_names)) < len(parent_names):
        raise ScenarioError([Issue(str(path), "extends", "names a file twice")])
    parents = []
    for parent_name in parent_names:
        parent_path = path.parent / parent_name
        if _exists(parent_path) and parent_path.is_dir():
            raise ScenarioError(
                [Issue(str(path), "extends", f"{parent_name!r} is a folder, not a scenario file")]
            )
        if not _exists(parent_path):
            raise ScenarioError(
                [
                    Issue(
                        str(path),
                        "extends",
                        f"file not found: {parent_name} (looked in {path.parent})",
                    )
                ]
            )
        parents.append(_read_with_parents(parent_path, (*chain, resolved), texts))
    base, base_origins = parents[0]
    for other, other_origins in parents[1:]:
        conflicts = _conflicts(path, base, base_origins, other, other_origins, data)
        if conflicts:
            raise ScenarioError(conflicts)
        base = _merge(base, other)
        base_origins.update(other_origins)
    base_origins.update(origins)
    return _merge(base, data), base_origins


def _conflicts(
    path: Path,
    first: Mapping[str, Any],
    first_origins: Origins,
    second: Mapping[str, Any],
    second_origins: Origins,
    child: Mapping[str, Any],
    prefix: KeyPath = (),
) -> list[Issue]:
    """Two files that one scenario extends may share tables (a partner both networks
    sell to), but where both give a value and the values differ, the child must say
    which it takes: neither silently wins."""
    issues = []
    for key, value in second.items():
        if key not in first:
            continue
        here, theirs, mine = (*prefix, key), first[key], child.get(key)
        if key in child and not isinstance(mine, dict):
            continue  # the child gives the value itself
        if (
            isinstance(value, dict)
            and isinstance(theirs, dict)
            and not {"dist"} & {*value, *theirs}
        ):
            below = mine if isinstance(mine, dict) else {}
            issues += _conflicts(path, theirs, first_origins, value, second_origins, below, here)
        elif value != theirs:
            issues.append(
                Issue(
                    str(path),
                    ".".join(here),
                    f"{Path(first_origins.get(here, '?')).name} and "
                    f"{Path(second_origins.get(here, '?')).name}, which this file extends, "
                    f"give it different values ({_shown(theirs)} and {_shown(value)}): "
                    "set it in this file",
                )
            )
    return issues


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _exists(path: Path) -> bool:
    """Whether something is at ``path``; a name the system cannot take is not."""
    try:
        os.stat(path)
    except (OSError, ValueError):
        return False
    return True


def _record_origins(data: Any, prefix: KeyPath, file: str, origins: Origins) -> None:
    origins[prefix] = file
    if isinstance(data, dict):
        for key, value in data.items():
            _record_origins(value, (*prefix, key), file, origins)


def _merge(base: dict[str, Any], child: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge tables; any other value in ``child`` replaces the base's."""
    merged = copy.deepcopy(base)
    for key, value in child.items():
        # A distribution ({dist = ...}) is one value: the child's replaces the parent's.
        if isinstance(value, dict) and "dist" not in value and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


# --- overrides ----------------------------------------------------------------


def keys_overlap(a: str, b: str) -> bool:
    """Whether setting key path ``a`` and key path ``b`` touch the same value."""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def shared_overrides(path: str | Path, overrides: Iterable[str]) -> tuple[list[str], list[str]]:
    """Which ``--set`` overrides also apply to the scenario file at ``path`` (a baseline):
    those whose table is in that file or the files it extends, such as ``calendar.end``
    or a node both files share. The others (a policy only the scenario has) are skipped.
    Returns the overrides that apply and those skipped."""
    data, _ = _read_with_parents(Path(path), chain=())
    applies, skipped = [], []
    for text in overrides:
        key, _ = parse_override(text)
        table: Any = data
        for part in key.split(".")[:-1]:
            table = table.get(part) if isinstance(table, dict) else None
        (applies if isinstance(table, dict) else skipped).append(text)
    return applies, skipped


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``"a.b.c=value"``; the value is read as a TOML value, else as a string."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ScenarioError(
            [Issue("--set", text, "expected KEY=VALUE, e.g. prices.dore_purity=0.9")]
        )
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    except RecursionError:
        value = None
    except ValueError:  # an integer of more than 4,300 digits
        raise ScenarioError(
            [Issue("--set", key, "the value is a number too long (more than 4,300 digits)")]
        ) from None
    if value is None or _depth(value) > MAX_DEPTH:
        raise ScenarioError(
            [Issue("--set", key, f"the value nests arrays or tables more than {MAX_DEPTH} deep")]
        )
    return key, value


def apply_overrides(
    data: dict[str, Any],
    origins: Origins,
    overrides: Iterable[str] | Mapping[str, Any],
    file: str,
) -> dict[str, Any]:
    pairs = overrides.items() if isinstance(overrides, Mapping) else map(parse_override, overrides)
    data = copy.deepcopy(data)
    issues: list[Issue] = []
    for key, value in pairs:
        if not isinstance(key, str):
            issues.append(Issue("--set", repr(key), "a key path is a string, like 'a.b.c'"))
            continue
        if _depth(value) > MAX_DEPTH:
            issues.append(
                Issue("--set", key, f"the value nests arrays or tables more than {MAX_DEPTH} deep")
            )
            continue
        parts = key.split(".")
        if any(not p for p in parts):
            issues.append(Issue("--set", key, "has an empty part in its key path"))
            continue
        table: Any = data
        for depth, part in enumerate(parts[:-1]):
            nxt = table.get(part) if isinstance(table, dict) else None
            if not isinstance(nxt, dict):
                where = ".".join(parts[: depth + 1])
                if isinstance(table, dict) and part in table:
                    issues.append(Issue("--set", key, f"'{where}' is a value, not a table"))
                else:
                    known = table if isinstance(table, dict) else {}
                    aliases = node_aliases(known) if parts[:depth] == ["nodes"] else None
                    hint = _suggest(part, known.keys(), aliases)
                    issues.append(Issue("--set", key, f"no table '{where}' in {file}{hint}"))
                break
            table = nxt
        else:
            table[parts[-1]] = value
            if is_date_key(parts[-1]):
                # A point of a schedule given on its own takes its place among the dates.
                table = put_dates_in_order(table)
                parent = data
                for part in parts[:-2]:
                    parent = parent[part]
                if len(parts) > 1:
                    parent[parts[-2]] = table
            _record_origins(value, tuple(parts), "--set", origins)
    if issues:
        raise ScenarioError(issues)
    return data


# --- turning pydantic's errors into issues ------------------------------------


_PATTERN_MESSAGES = {
    "^[A-Z]{3}$": "must be an ISO 3166-1 alpha-3 code in capitals, like 'VEN'",
    "^[A-Za-z][A-Za-z0-9_\\-]*$": (
        "must start with a letter and hold only letters, digits, '_' and '-'"
    ),
}


def issues_from_pydantic(
    exc: ValidationError, origins: Origins, root: type[BaseModel] = Scenario
) -> list[Issue]:
    """Turn pydantic's errors about a ``root`` model into issues with key paths."""
    issues = []
    for err in exc.errors(include_url=False):
        path, parent = _clean_loc(err["loc"], root)
        kind = err["type"]
        ctx = err.get("ctx", {})
        if kind == "extra_forbidden":
            key = str(path[-1])
            message = REMOVED_KEYS.get(key) or (
                f"unknown key '{key}'{_suggest(key, _valid_keys(parent))}"
            )
        elif kind == "missing":
            message = "is required but missing"
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            # The tag's own key is where the user has to look.
            tag_key = str(ctx.get("discriminator", "kind")).strip("'")
            path = (*path, tag_key)
            expected = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",")]
            if kind == "union_tag_not_found":
                message = "is required but missing"
            else:
                tag = str(ctx.get("tag", ""))
                close = difflib.get_close_matches(tag, expected, n=1, cutoff=0.6)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                message = f"{tag!r} is not one of {', '.join(expected)}{hint}"
        elif kind == "string_pattern_mismatch" and ctx.get("pattern") in _PATTERN_MESSAGES:
            message = f"{_PATTERN_MESSAGES[ctx['pattern']]} (got {err['input']!r})"
        else:
            message = err["msg"].removeprefix("Value error, ")
            if "input" in err and not isinstance(err["input"], dict):
                message += f" (got {_short(err['input'])})"
                message += _toml_spelling_hint(err["input"], kind.startswith("bool_"))
        issues.append(Issue(_file_for(path, origins), _format_path(path), message))
    return issues


def _short(value: Any) -> str:
    text = str(value) if isinstance(value, datetime.date) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _clean_loc(loc: tuple[str | int, ...], root: type[BaseModel]) -> tuple[KeyPath, Any]:
    """Drop the tags pydantic inserts for tagged unions; return the path and the
    type in which the last key was looked up."""
    path: list[str | int] = []
    current: Any = root
    parent: Any = root
    for part in loc:
        members = _union_members(current)
        if members is not None and isinstance(part, str) and part in members:
            current = members[part]
            continue
        if part == "[key]":
            continue
        if isinstance(part, str) and part.startswith(("function-", "json-or-python[")):
            continue  # a validator's or a union's own name, not a key the user wrote
        parent = current
        current = _child_type(current, part)
        path.append(part)
    if path and path[-1] == "value" and parent is Fixed:
        # A plain number stands for {dist = "fixed", value = ...}: name the key the user wrote.
        path.pop()
    return tuple(path), parent


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _union_members(tp: Any) -> dict[str, type[BaseModel]] | None:
    """For a union of models told apart by a literal tag, map each tag to its model."""
    tp = _unwrap(tp)
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return None
    members: dict[str, type[BaseModel]] = {}
    for arg in typing.get_args(tp):
        arg = _unwrap(arg)
        if not (isinstance(arg, type) and issubclass(arg, BaseModel)):
            continue
        for field in arg.model_fields.values():
            if typing.get_origin(field.annotation) is typing.Literal:
                for tag in typing.get_args(field.annotation):
                    members[str(tag)] = arg
    return members or None


def _child_type(tp: Any, key: str | int) -> Any:
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        for name, field in tp.model_fields.items():
            if key in (name, field.alias):
                return field.annotation
        return None
    origin = typing.get_origin(tp)
    if origin is dict:
        return typing.get_args(tp)[1]
    if origin is list:
        return typing.get_args(tp)[0]
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            found = _child_type(arg, key)
            if found is not None:
                return found
    return None


def _valid_keys(tp: Any) -> list[str]:
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [field.alias or name for name, field in tp.model_fields.items()]
    return []


def _suggest(word: str, candidates: Iterable[Any], aliases: Aliases | None = None) -> str:
    options = [str(c) for c in candidates]
    close = closest(word, options, aliases)
    if close is not None:
        return f"; did you mean '{close}'?"
    if options and len(options) <= 25:
        return f"; valid keys: {', '.join(sorted(options))}"
    return ""


def _format_path(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _file_for(path: KeyPath, origins: Origins) -> str:
    for n in range(len(path), -1, -1):
        if path[:n] in origins:
            return origins[path[:n]]
    return origins.get((), "<scenario>")
