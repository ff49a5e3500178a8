"""Folders and files that flowsim writes, and only those.

Every folder flowsim writes carries its signature: a manifest with flowsim's
format marker, its version, and the list of the files it wrote there, each
with its size and SHA-256 checksum. flowsim replaces or removes only what such
a list names; a folder that holds anything else is refused, with the name of
one file it did not write. What flowsim reads back is checked against the
list before it is trusted.

A folder is written whole into a hidden sibling (``.NAME.tmp-*``) and then
swapped into place in one atomic step (``renameat2(RENAME_EXCHANGE)`` on
Linux), so that a kill at any moment leaves either the earlier folder or the
new one at the path, never neither. Where the system cannot swap, the earlier
folder is moved aside (``.NAME.old-*``) for the instant between two renames,
and the next write at that path puts it back if a kill fell in between.
Leftovers of killed writes are removed by the next write at the same path,
once they are shown to be flowsim's own.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import glob
import hashlib
import json
import os
import re
import secrets
import socket
import sys
import tempfile
import warnings
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowsim._version import __version__
from flowsim.errors import FlowsimError, FlowsimWarning
from flowsim.text import printable

__all__ = [
    "MANIFEST",
    "RUN_FORMAT",
    "FileRecord",
    "OwnedFiles",
    "atomic_write_bytes",
    "file_record",
    "replace_signed_file",
    "run_files",
    "write_folder",
]

RUN_FORMAT = "flowsim-run"
# 3: SQL-safe column names (routes from_node/to_node, seizures seized_in), metadata.
RUN_FORMAT_VERSION = 3
MANIFEST = "manifest.json"
# Written first into a folder being built, so that a killed write can be told
# apart from anything else that starts with a dot.
INCOMPLETE = ".flowsim-incomplete"
_CHUNK = 1 << 20
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class FileRecord:
    """Size and checksum of a file flowsim wrote."""

    bytes: int
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {"bytes": self.bytes, "sha256": self.sha256}


def file_record(path: Path, *, sync: bool = False) -> FileRecord:
    """Size and SHA-256 of a file, read once; ``sync`` also flushes it to disk."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
        if sync:
            os.fsync(f.fileno())
    return FileRecord(size, digest.hexdigest())


def bytes_record(data: bytes) -> FileRecord:
    return FileRecord(len(data), hashlib.sha256(data).hexdigest())


def member_name(name: object) -> bool:
    """Whether ``name`` names a file of a signed folder: directly inside it
    (``summary.json``) or inside one of its subfolders (``figures/exports.svg``)."""
    if not isinstance(name, str):
        return False
    parts = name.split("/")
    return len(parts) <= 2 and all(plain_name(part) for part in parts)


def plain_name(name: object) -> bool:
    """Whether ``name`` names a file directly inside a folder: no path in it."""
    return (
        isinstance(name, str)
        and name not in ("", ".", "..")
        and "/" not in name
        and "\\" not in name
        and "\0" not in name
    )


def parse_record(value: object) -> FileRecord | None:
    if not isinstance(value, Mapping):
        return None
    size, sha = value.get("bytes"), value.get("sha256")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        return None
    if not isinstance(sha, str) or not _SHA256.match(sha):
        return None
    return FileRecord(size, sha)


# --- names the system can take ----------------------------------------------------------

# The temporary sibling of a file or folder adds at most this many bytes to its name.
TEMPORARY_SUFFIX_BYTES = 20  # ".NAME.old-" and 12 hex digits: 18


def check_path(path: Path, what: str, *, temporary: bool = False) -> None:
    """:class:`FlowsimError` if the system cannot take ``path`` as a name: not
    encodable, a NUL byte, or a part longer than the file system allows (with
    room for a temporary sibling, if ``temporary``)."""
    text = printable(str(path))
    try:
        encoded_parts = [os.fsencode(part) for part in Path(path).parts]
    except UnicodeEncodeError:
        raise FlowsimError(
            f"{what} {text}: not a valid file name in this file system's encoding"
        ) from None
    if any(b"\0" in part for part in encoded_parts):
        raise FlowsimError(f"{what} {text}: a file name cannot hold a NUL byte")
    limit = _name_max(Path(path))
    for k, part in enumerate(encoded_parts):
        extra = TEMPORARY_SUFFIX_BYTES if temporary and k == len(encoded_parts) - 1 else 0
        if len(part) + extra > limit:
            room = f" (with {extra} for a temporary copy)" if extra else ""
            raise FlowsimError(
                f"{what} {text}: the name {printable(os.fsdecode(part[:40]))}... is "
                f"{len(part)} bytes long, more than the {limit - extra} this file system "
                f"allows{room}"
            )


def _name_max(path: Path) -> int:
    """The longest file name, in bytes, in the nearest folder of ``path`` that exists."""
    folder = path.parent if path.parent != path else path
    for candidate in (folder, *folder.parents):
        try:
            if candidate.is_dir():
                return os.pathconf(candidate, "PC_NAME_MAX")
        except (OSError, ValueError):
            continue
    return 255


# --- the signature of a run folder ------------------------------------------------------


@dataclass(frozen=True)
class OwnedFiles:
    """What a signed folder's manifest says flowsim wrote there."""

    manifest: dict[str, Any]
    files: dict[str, FileRecord | None]  # None: listed by an older format, no checksum

    def names(self) -> set[str]:
        """The names directly in the folder: its files and the subfolders of its files."""
        return {name.split("/")[0] for name in self.files} | {MANIFEST}

    def subfolders(self) -> set[str]:
        return {name.split("/")[0] for name in self.files if "/" in name}


# The files of a run folder in format 1 (flowsim 0.1), which listed its tables only.
_LEGACY_RUN_EXTRAS = ("summary.json", "report.html")


def run_files(folder: Path, own_names: Callable[[str], bool]) -> OwnedFiles:
    """The signature of the run folder ``folder``; :class:`FlowsimError` if it has none.

    A folder is a run folder if its ``manifest.json`` is a JSON object with
    flowsim's format marker and version and a list of files, each with its size and
    checksum, and each a name flowsim writes in a run folder (``own_names``): a
    manifest that lists another name (a forged one) is not flowsim's. A manifest of
    flowsim 0.1 (format 1) lists its tables; it is still recognised, so that an older
    run can be replaced.
    """
    check_path(folder, "cannot read the run folder")
    path = folder / MANIFEST
    if path.is_symlink() or not path.is_file():
        raise FlowsimError(f"{folder}: not a flowsim run folder (no {MANIFEST})")
    try:
        manifest = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError) as exc:
        raise FlowsimError(f"{path}: not a flowsim run manifest ({_reason(exc)})") from None
    if not isinstance(manifest, dict):
        raise FlowsimError(f"{path}: not a flowsim run manifest (not a JSON object)")
    if manifest.get("format") == RUN_FORMAT:
        listed = manifest.get("files")
        if not isinstance(listed, dict):
            raise FlowsimError(f"{path}: files: missing or not a table of files")
        files: dict[str, FileRecord | None] = {}
        for name, value in listed.items():
            record = parse_record(value)
            if not member_name(name) or name == MANIFEST or record is None:
                raise FlowsimError(
                    f"{path}: files: {name!r} is not a file of this folder with its size and sha256"
                )
            if not own_names(name):
                raise FlowsimError(
                    f"{path}: files: {name!r} is not a file flowsim writes in a run folder: this "
                    "manifest.json was not written by flowsim"
                )
            files[name] = record
        if not isinstance(manifest.get("flowsim_version"), str):
            raise FlowsimError(f"{path}: flowsim_version: missing or not a string")
        return OwnedFiles(manifest, files)
    tables = manifest.get("tables")
    if (
        manifest.get("format_version") == 1
        and isinstance(manifest.get("flowsim_version"), str)
        and isinstance(manifest.get("scenario_hash"), str)
        and isinstance(tables, list)
        and all(plain_name(t) and own_names(f"{t}.parquet") for t in tables)
    ):
        names = [f"{t}.parquet" for t in tables] + list(_LEGACY_RUN_EXTRAS)
        return OwnedFiles(manifest, dict.fromkeys(names))
    raise FlowsimError(
        f"{path}: this manifest.json was not written by flowsim (it has no flowsim run signature)"
    )


def read_verified(folder: Path, owned: OwnedFiles, name: str) -> bytes:
    """The bytes of ``name`` in a signed folder, once their size and checksum match
    what the manifest lists: read once, checked and handed on, never read again."""
    path = folder / name
    if name not in owned.files:
        raise FlowsimError(f"{folder}: {name} is not listed in its {MANIFEST}")
    if path.is_symlink() or not path.is_file():
        raise FlowsimError(f"{path}: missing (listed in {MANIFEST})")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FlowsimError(f"{path}: cannot be read ({_reason(exc)})") from None
    expected = owned.files[name]
    if expected is None:
        return data
    found = bytes_record(data)
    if found.bytes < expected.bytes:
        raise FlowsimError(
            f"{path}: changed since flowsim wrote it: {found.bytes} bytes, but {MANIFEST} "
            f"says {expected.bytes} (truncated, or replaced by another file)"
        )
    if found != expected:
        raise FlowsimError(
            f"{path}: changed since flowsim wrote it (its size or checksum differs from the "
            f"one in {MANIFEST})"
        )
    return data


# --- writing a folder whole -------------------------------------------------------------


def write_folder(
    target: Path,
    fill: Callable[[Path], Mapping[str, Any]],
    *,
    own_names: Callable[[str], bool],
    what: str = "results",
) -> Path:
    """Write a signed run folder at ``target``, atomically.

    ``fill(folder)`` writes the files into a hidden temporary folder and returns
    the rest of the manifest. ``own_names(name)`` says which names ``fill`` may
    write; it lets the next write remove the leftovers of a killed one. An
    earlier run folder at ``target`` is replaced, and of it only the files its
    manifest lists are removed; anything else at ``target`` is refused.
    """
    # Absolute, so that "." or "results/.." has a parent and a name of its own (the
    # last part is not resolved: a symbolic link there is refused, not followed).
    target = Path(os.path.abspath(target))
    parent = target.parent
    check_path(target, f"cannot write {what} to", temporary=True)
    clean_leftovers(target, own_names)
    earlier = _replaceable(target, what, own_names)
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
    except OSError as exc:
        raise FlowsimError(f"cannot write {what} to {target}: {_reason(exc)}") from None
    try:
        marker = json.dumps({"format": RUN_FORMAT, "pid": os.getpid(), "host": _host()})
        atomic_write_bytes(tmp / INCOMPLETE, marker.encode(), durable=False)
        rest = dict(fill(tmp))
        records = {}
        for path in sorted(tmp.iterdir()):
            if path.name in (INCOMPLETE, MANIFEST):
                continue
            if path.is_dir() and not path.is_symlink() and own_names(f"{path.name}/"):
                for inner in sorted(path.iterdir()):
                    name = f"{path.name}/{inner.name}"
                    if not own_names(name) or inner.is_symlink() or not inner.is_file():
                        raise RuntimeError(f"flowsim wrote {name!r}, which it does not own")
                    records[name] = file_record(inner, sync=True).as_json()
                _sync_dir(path)
                continue
            if not own_names(path.name) or not path.is_file():
                raise RuntimeError(f"flowsim wrote {path.name!r}, which it does not own")
            records[path.name] = file_record(path, sync=True).as_json()
        manifest = {
            **rest,
            "format": RUN_FORMAT,
            "format_version": RUN_FORMAT_VERSION,
            "flowsim_version": __version__,
            "files": records,
        }
        text = json.dumps(manifest, indent=2, default=str, allow_nan=False) + "\n"
        atomic_write_bytes(tmp / MANIFEST, text.encode())
        os.unlink(tmp / INCOMPLETE)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; a run folder is not
        _swap_into_place(tmp, target, earlier, what, own_names)
    except OSError as exc:
        _discard(tmp)
        raise FlowsimError(f"cannot write {what} to {target}: {_reason(exc)}") from None
    except BaseException:
        _discard(tmp)
        raise
    return target


def check_replaceable(target: Path, what: str, own_names: Callable[[str], bool]) -> None:
    """Refuse now, before long work, what :func:`write_folder` would refuse at its end:
    a folder at ``target`` that flowsim did not write, or whose files changed."""
    target = Path(os.path.abspath(target))
    check_path(target, f"cannot write {what} to", temporary=True)
    _replaceable(target, what, own_names)


def _replaceable(
    target: Path, what: str, own_names: Callable[[str], bool], *, verify: bool = True
) -> OwnedFiles | None:
    """The signature of the folder at ``target`` if flowsim may replace it (None if
    there is nothing there); :class:`FlowsimError` naming what stops it otherwise.
    With ``verify``, every listed file must still be what flowsim wrote (its size and
    checksum; for a folder of flowsim 0.1, its kind of content)."""
    if target.is_symlink():
        raise FlowsimError(f"cannot write {what} to {target}: it is a symbolic link")
    if not target.exists():
        return None
    if not target.is_dir():
        raise FlowsimError(f"cannot write {what} to {target}: it exists and is not a folder")
    try:
        entries = sorted(p.name for p in target.iterdir())
    except OSError as exc:
        raise FlowsimError(f"cannot write {what} to {target}: {_reason(exc)}") from None
    if not entries:
        return OwnedFiles({}, {})
    if MANIFEST not in entries:
        raise FlowsimError(
            f"cannot write {what} to {target}: it is a folder that is not a flowsim run "
            f"(no {MANIFEST}); choose another --out"
        )
    try:
        owned = run_files(target, own_names)
    except FlowsimError as exc:
        raise FlowsimError(
            f"cannot write {what} to {target}: it is not a flowsim run folder ({exc}); "
            "choose another --out"
        ) from None
    foreign = [name for name in entries if name not in owned.names()]
    for sub in sorted(owned.subfolders() & set(entries)):
        folder = target / sub
        if folder.is_symlink() or not folder.is_dir():
            foreign.append(sub)  # what flowsim wrote was a folder: this is someone else's
            continue
        try:
            inside = sorted(p.name for p in folder.iterdir())
        except OSError as exc:
            raise FlowsimError(f"cannot write {what} to {target}: {_reason(exc)}") from None
        foreign += [f"{sub}/{n}" for n in inside if f"{sub}/{n}" not in owned.files]
    if foreign:
        raise FlowsimError(
            f"cannot replace the run in {target}: it holds {foreign[0]!r}, which is not one "
            f"of the files flowsim wrote for that run{_and_more(foreign)}; move it elsewhere "
            "or choose another --out"
        )
    if verify:
        for name in sorted(owned.files):
            if name.split("/")[0] not in entries or not (target / name).exists():
                continue
            if not _still_flowsims(target / name, owned.files[name]):
                raise FlowsimError(
                    f"cannot replace the run in {target}: {name} was changed since flowsim "
                    "wrote it (it is not what the manifest records), so it may be someone's "
                    "work; move it elsewhere or choose another --out"
                )
    return owned


def _still_flowsims(path: Path, record: FileRecord | None) -> bool:
    """Whether the file at ``path`` is still what flowsim wrote there: the size and
    checksum recorded, or for a folder of flowsim 0.1 (no checksums), its kind of
    content (a Parquet file, a summary, a report)."""
    if path.is_symlink() or not path.is_file():
        return False
    try:
        if record is not None:
            return file_record(path) == record
        with open(path, "rb") as f:
            head = f.read(4096)
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 4))
            tail = f.read(4)
    except OSError:
        return False
    if path.suffix == ".parquet":
        return head.startswith(b"PAR1") and tail == b"PAR1"
    if path.name == "summary.json":
        return head.lstrip().startswith(b"{") and b'"format_version"' in head
    return b"<title>flowsim report:" in head


def _swap_into_place(
    tmp: Path,
    target: Path,
    earlier: OwnedFiles | None,
    what: str,
    own_names: Callable[[str], bool],
) -> None:
    _sync_dir(tmp)
    if earlier is None:
        try:
            os.rename(tmp, target)
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                raise FlowsimError(
                    f"cannot write {what} to {target}: something else created it meanwhile"
                ) from None
            raise
        _sync_dir(target.parent)
        return
    # Checked again just before the swap: something may have appeared there since.
    earlier = _replaceable(target, what, own_names, verify=False) or OwnedFiles({}, {})
    if exchange(tmp, target):
        # ``tmp`` now holds the earlier run.
        _sync_dir(target.parent)
        _remove_owned(tmp, earlier)
        return
    # A fresh name, not a folder made for it: a kill must not leave an empty one behind.
    old = target.with_name(f".{target.name}.old-{secrets.token_hex(6)}")
    os.rename(target, old)
    try:
        os.rename(tmp, target)
    except OSError:
        os.rename(old, target)  # put the earlier run back where it was
        raise
    _sync_dir(target.parent)
    _remove_owned(old, earlier)


def _remove_owned(
    folder: Path, owned: OwnedFiles, extra: Callable[[str], bool] | None = None
) -> None:
    """Remove the files of ``folder`` that ``owned`` lists and that are still what
    flowsim wrote (and those ``extra`` accepts), then the folder if nothing else is
    left; warn if something is."""
    kept = False
    for name in sorted(owned.files):
        path = folder / name
        if "/" in name and (folder / name.split("/")[0]).is_symlink():
            kept = True  # never through a link: what it points to is not flowsim's folder
            continue
        if not (path.is_symlink() or path.exists()):
            continue
        if _still_flowsims(path, owned.files[name]):
            _unlink_file(path)
        else:
            kept = True
    for path in list(folder.iterdir()) if folder.is_dir() else []:
        if extra is not None and extra(path.name) and not path.is_dir():
            _unlink_file(path)
        if (
            path.is_dir()
            and not path.is_symlink()
            and (path.name in owned.subfolders() or (extra is not None and extra(f"{path.name}/")))
        ):
            if extra is not None:
                for inner in list(path.iterdir()):
                    if extra(f"{path.name}/{inner.name}") and not inner.is_dir():
                        _unlink_file(inner)
            try:
                path.rmdir()
            except OSError:
                kept = True  # it holds something flowsim did not write (or no longer)
    _unlink_file(folder / INCOMPLETE)
    if not kept:
        _unlink_file(folder / MANIFEST)
    try:
        folder.rmdir()
    except FileNotFoundError:
        pass
    except OSError:
        left = sorted(p.name for p in folder.iterdir())
        warnings.warn(
            f"kept {folder}: it holds {left[0]!r}, which is not (or no longer) what flowsim "
            "wrote there",
            FolderWarning,
            stacklevel=3,
        )


class FolderWarning(FlowsimWarning):
    """Something flowsim could not remove because it did not write it."""


def _unlink_file(path: Path) -> None:
    """Remove a file (or a symbolic link, never what it points to); never a folder."""
    with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
        if path.is_symlink() or path.is_file():
            path.unlink()


def _discard(tmp: Path) -> None:
    """Remove a temporary folder this process made with mkdtemp moments ago."""
    with contextlib.suppress(OSError):
        for path in tmp.iterdir():
            if path.is_dir() and not path.is_symlink():
                for inner in path.iterdir():
                    _unlink_file(inner)
                path.rmdir()
            _unlink_file(path)
        tmp.rmdir()


def clean_leftovers(target: Path, own_names: Callable[[str], bool]) -> None:
    """Remove the temporary and old copies that killed writes left beside ``target``,
    once each is shown to be flowsim's; restore an earlier run that a kill left
    aside with nothing at ``target``."""
    parent = target.parent
    if not parent.is_dir():
        return
    stem = glob.escape(f".{target.name}.")
    try:
        found = sorted(parent.glob(f"{stem}tmp-*")) + sorted(parent.glob(f"{stem}old-*"))
    except OSError:
        return
    for folder in found:
        if folder.is_symlink() or not folder.is_dir():
            continue
        try:
            _clean_one(folder, target, own_names)
        except OSError:
            continue  # someone else's, or unreadable: left as it is


def _clean_one(folder: Path, target: Path, own_names: Callable[[str], bool]) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()  # empty: a kill came before the first file; nothing is lost
        return
    marker = folder / INCOMPLETE
    if marker.is_file() and not marker.is_symlink():
        try:
            info = json.loads(marker.read_bytes())
        except (ValueError, RecursionError):
            return
        if not isinstance(info, dict) or info.get("format") != RUN_FORMAT:
            return
        if info.get("host") == _host() and _alive(info.get("pid")):
            return  # another flowsim is writing it now
        _remove_owned(folder, OwnedFiles({}, {}), extra=own_names)
        return
    try:
        owned = run_files(folder, own_names)
    except FlowsimError:
        return  # not flowsim's: left alone
    if folder.name.startswith(f".{target.name}.old-") and not target.exists():
        os.rename(folder, target)  # a kill fell between the two renames of a replace
        return
    _remove_owned(folder, owned)


def _alive(pid: object) -> bool:
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _host() -> str:
    return socket.gethostname()


# --- one file ---------------------------------------------------------------------------


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file beside it, then rename."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def replace_signed_file(
    path: Path, data: bytes, *, signed: Callable[[bytes], bool], what: str
) -> None:
    """Write a single file (a report, a JUnit file) that may replace an earlier one
    only if ``signed(first bytes)`` shows that flowsim wrote it."""
    path = Path(path)
    check_path(path, f"cannot write {what}", temporary=True)
    if path.is_symlink():
        raise FlowsimError(f"cannot write {what} {path}: it is a symbolic link")
    if path.exists():
        if not path.is_file():
            raise FlowsimError(f"cannot write {what} {path}: it exists and is not a file")
        try:
            with open(path, "rb") as f:
                head = f.read(4096)
        except OSError as exc:
            raise FlowsimError(f"cannot write {what} {path}: {_reason(exc)}") from None
        if not signed(head):
            raise FlowsimError(
                f"cannot write {what} {path}: a file flowsim did not write is there; "
                "choose another path"
            )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise FlowsimError(f"cannot write {what} {path}: {_reason(exc)}") from None


def add_to_manifest(folder: Path, name: str, own_names: Callable[[str], bool]) -> None:
    """Record in a run folder's manifest a file flowsim has just written there."""
    owned = run_files(folder, own_names)
    manifest = dict(owned.manifest)
    if manifest.get("format") != RUN_FORMAT:
        return  # an older folder lists no files: nothing to add
    files = dict(manifest["files"])
    files[name] = file_record(folder / name, sync=True).as_json()
    manifest["files"] = files
    text = json.dumps(manifest, indent=2, default=str, allow_nan=False) + "\n"
    atomic_write_bytes(folder / MANIFEST, text.encode())


# --- the system's atomic swap -----------------------------------------------------------

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_renameat2: Any = None


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step; False where the system cannot."""
    global _renameat2
    if not sys.platform.startswith("linux"):
        return False
    if _renameat2 is None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            function = libc.renameat2
        except (OSError, AttributeError):
            _renameat2 = False
            return False
        function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
        function.argtypes.append(ctypes.c_uint)
        function.restype = ctypes.c_int
        _renameat2 = function
    if _renameat2 is False:
        return False
    result = _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False  # this file system cannot swap
    raise OSError(code, os.strerror(code), str(b))


def _sync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable; a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _and_more(names: Collection[str]) -> str:
    return f" (and {len(names) - 1} more)" if len(names) > 1 else ""


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)
