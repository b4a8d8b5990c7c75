"""Writing output files without losing anything: each file replaced on its own, never a folder.

Stage: presentation -> disk. Every command and function that writes files goes through here:

* **One file at a time, atomically.** :func:`atomic_file` writes under a temporary name beside
  the target and renames it onto the target with ``os.replace``. An interrupted write (Ctrl-C,
  a full disk, a crash) leaves the old file or the new one, never neither and never half of
  one. A target that is an existing folder is refused.
* **Folders are shared, never replaced.** :class:`OutputFolder` writes a known set of files into
  a folder and keeps the list of the files flowopt wrote there in :data:`OUTPUTS_MANIFEST`
  (``.flowopt-outputs.json``). A later run may replace those files. A file of the same name
  that flowopt did not write is never replaced: the whole write is refused before anything is
  written (:class:`~flowopt.errors.OutputError`). Every other file in the folder is left
  untouched, and nothing is ever deleted.
* **Outputs stay out of inputs.** Plan outputs (plans, comparisons, curves, pathways) refuse a
  folder that holds a scenario (``scenario.yaml``): ``flowopt solve DATA --out DATA`` is
  refused instead of mixing forty output files into the scenario's input.
* **System errors are located.** An ``OSError`` while writing (permission denied, disk full,
  read-only file system, a file where a folder should be) becomes an ``OutputError`` naming the
  path and the reason.

The checks (:func:`check_output_file`, :func:`check_output_folder`) create nothing, so the CLI
runs them before solving and fails fast.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType

from flowopt.errors import OutputError

#: The list of files flowopt wrote in an output folder (JSON: ``{"files": [...]}``).
OUTPUTS_MANIFEST = ".flowopt-outputs.json"
#: A folder holding this file holds a scenario (the same name as ``flowopt.io.MANIFEST``).
SCENARIO_FILE = "scenario.yaml"
#: A manifest larger than this is not one flowopt wrote.
_MAX_MANIFEST_BYTES = 1_000_000
_SHOWN_NAMES = 5


def _shown(path: os.PathLike[str] | str, limit: int = 200) -> str:
    """A path for a message, cut to ``limit`` characters."""
    text = str(path)
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]


def os_error(path: os.PathLike[str] | str, exc: OSError) -> OutputError:
    """Turn an ``OSError`` raised while writing ``path`` into a located :class:`OutputError`."""
    reason = exc.strerror or type(exc).__name__
    hints = {
        errno.EACCES: "choose a place you may write to, or change the permissions.",
        errno.EPERM: "choose a place you may write to, or change the permissions.",
        errno.ENOSPC: "free some disk space, or write to another disk.",
        errno.EROFS: "the file system is read-only: choose another place.",
        errno.ENOTDIR: "a part of the path is a file, not a folder: check the path.",
        errno.EISDIR: "a folder has that name: choose another name.",
        errno.ENAMETOOLONG: "use a shorter path.",
    }
    hint = hints.get(exc.errno or 0, "check the path and try again.")
    return OutputError(f"Cannot write '{_shown(path)}': {reason}.", str(path), hint)


def _check_location(folder: Path) -> None:
    """Refuse a folder that cannot be created or written: its nearest existing part decides."""
    probe = folder
    while not probe.exists() and not probe.is_symlink() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        msg = f"Cannot write in '{_shown(folder)}': '{_shown(probe)}' is a file, not a folder."
        raise OutputError(msg, str(folder), "check the path: a part of it is an existing file.")
    if not os.access(probe, os.W_OK | os.X_OK):
        msg = f"Cannot write in '{_shown(folder)}': '{_shown(probe)}' is not writable (permission denied or a read-only file system)."
        raise OutputError(msg, str(folder), "choose a place you may write to, or change the permissions.")


def check_output_file(path: os.PathLike[str] | str, what: str = "the output") -> Path:
    """Check that ``path`` can take a single-file output; create nothing.

    Args:
        path: the target file (it may exist: it is replaced).
        what: what is written, for the message (``the workbook``, ``the report``).

    Returns:
        The path.

    Raises:
        OutputError: ``path`` is a folder, or its folder cannot be created or written.
    """
    target = Path(path)
    if target.is_dir():
        msg = f"'{_shown(target)}' is a folder; {what} is one file and flowopt never replaces a folder."
        raise OutputError(msg, str(target), "give a file name that is not an existing folder.")
    _check_location(target.parent)
    return target


@contextlib.contextmanager
def atomic_file(path: os.PathLike[str] | str, what: str = "the output") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path`` (``os.replace``).

    On error the temporary file is removed and ``path`` is left as it was. ``OSError`` (from the
    caller's writing or from the rename) is raised as :class:`OutputError`.

    Args:
        path: the target file; an existing file is replaced, an existing folder refused.
        what: what is written, for the message.

    Yields:
        The path to write to (same name as the target, in a temporary folder beside it).

    Raises:
        OutputError: the target is a folder, or writing failed.
    """
    target = check_output_file(path, what)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name[:100]}.", suffix=".tmp", dir=target.parent))
    except OSError as exc:
        raise os_error(target.parent, exc) from exc
    try:
        yield tmp / target.name
        if target.is_dir():  # created while we wrote: never replace a folder
            msg = f"'{_shown(target)}' became a folder while it was written; it was left alone."
            raise OutputError(msg, str(target), "give a file name that is not a folder.")
        os.replace(tmp / target.name, target)
    except OSError as exc:
        raise os_error(target, exc) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_text(path: os.PathLike[str] | str, text: str, what: str = "the output") -> Path:
    """Write UTF-8 text to ``path`` atomically (see :func:`atomic_file`); return the path."""
    with atomic_file(path, what) as work:
        work.write_text(text, encoding="utf-8")
    return Path(path)


def _owned(folder: Path) -> set[str]:
    """The names listed in the folder's manifest (empty when there is none)."""
    manifest = folder / OUTPUTS_MANIFEST
    if not manifest.exists() and not manifest.is_symlink():
        return set()
    bad = OutputError(
        f"'{_shown(manifest)}' is not a list of files written by flowopt, so flowopt cannot tell its outputs from other files in '{_shown(folder)}'.",
        str(manifest),
        "write the outputs to another folder, or delete that file (flowopt then treats every file in the folder as yours and replaces none of them).",
    )
    try:
        if not manifest.is_file() or manifest.stat().st_size > _MAX_MANIFEST_BYTES:
            raise bad
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise bad from exc
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise bad
    return set(files)


def check_output_folder(folder: os.PathLike[str] | str, names: Iterable[str], *, what: str = "the outputs", refuse_scenario: bool = False) -> Path:
    """Check that ``names`` can be written into ``folder`` without losing a file; create nothing.

    Args:
        folder: the output folder (it may exist and hold other files).
        names: the file names to write into it.
        what: what is written, for messages (``the plan's files``).
        refuse_scenario: refuse a folder holding ``scenario.yaml`` (for plan outputs).

    Returns:
        The folder.

    Raises:
        OutputError: the folder is a file, holds a scenario (when refused), holds a file of one
            of ``names`` that flowopt did not write (or a folder of that name), has an
            unreadable manifest, or cannot be created or written.
    """
    target = Path(folder)
    if not target.is_dir():
        if target.exists() or target.is_symlink():
            msg = f"'{_shown(target)}' is a file, not a folder; {what} go into a folder."
            raise OutputError(msg, str(target), "give the path of a new folder, or of a folder flowopt wrote before.")
        _check_location(target)
        return target
    if refuse_scenario and (target / SCENARIO_FILE).exists():
        msg = f"'{_shown(target)}' holds a scenario ({SCENARIO_FILE}); flowopt does not write {what} into a scenario's folder."
        raise OutputError(msg, str(target), f"write them to another folder, e.g. '{_shown(target / 'out', 120)}' or a new folder.")
    owned = _owned(target)
    folders = sorted(n for n in names if (target / n).is_dir())
    foreign = sorted(n for n in names if n not in owned and n not in folders and ((target / n).exists() or (target / n).is_symlink()))
    if folders:
        listed = ", ".join(folders[:_SHOWN_NAMES]) + (", …" if len(folders) > _SHOWN_NAMES else "")
        msg = f"'{_shown(target)}' holds a folder where flowopt writes a file ({listed}); flowopt never replaces a folder."
        raise OutputError(msg, str(target), "move or rename that folder, or write the outputs to another folder.")
    if foreign:
        listed = ", ".join(foreign[:_SHOWN_NAMES]) + (f" and {len(foreign) - _SHOWN_NAMES} more" if len(foreign) > _SHOWN_NAMES else "")
        msg = f"'{_shown(target)}' already holds {len(foreign)} file(s) that flowopt did not write and would replace: {listed}. Nothing was written."
        raise OutputError(msg, str(target), "write the outputs to another (new or empty) folder, or move those files away.")
    _check_location(target)
    return target


class OutputFolder:
    """A folder that flowopt writes a known set of files into (see the module docstring).

    Use as a context manager; write each file to :meth:`path` with an atomic writer::

        with OutputFolder(out, ["plan.json", "flows.csv"], refuse_scenario=True) as folder:
            write_text(folder.path("plan.json"), text)

    Entering checks the folder (:func:`check_output_folder`), creates it if needed and records
    the names in the manifest *before* any file is written, so an interrupted run's files are
    still flowopt's on the next run. ``OSError`` inside the block becomes ``OutputError``.
    """

    def __init__(self, folder: os.PathLike[str] | str, names: Iterable[str], *, what: str = "the outputs", refuse_scenario: bool = False) -> None:
        self.folder = Path(folder)
        self.names = tuple(dict.fromkeys(names))
        self.what = what
        self.refuse_scenario = refuse_scenario
        bad = [n for n in self.names if not n or Path(n).name != n or n in (".", "..", OUTPUTS_MANIFEST)]
        if bad:
            msg = f"output names must be plain file names: {bad[:_SHOWN_NAMES]}"
            raise ValueError(msg)

    def path(self, name: str) -> Path:
        """Return the path of ``name`` in the folder; ``name`` must be one of the declared names."""
        if name not in self.names:
            msg = f"'{name}' was not declared for {self.folder}; declare every output name up front."
            raise ValueError(msg)
        return self.folder / name

    def __enter__(self) -> OutputFolder:
        """Check, create the folder and record the names in its manifest."""
        check_output_folder(self.folder, self.names, what=self.what, refuse_scenario=self.refuse_scenario)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise os_error(self.folder, exc) from exc
        self._write_manifest(_owned(self.folder) | set(self.names))
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        """Drop names that were never written from the manifest; turn ``OSError`` into ``OutputError``."""
        with contextlib.suppress(OSError, OutputError):
            owned = _owned(self.folder)
            kept = {n for n in owned if (self.folder / n).exists()}
            if kept != owned:
                self._write_manifest(kept)
        if isinstance(exc, OSError):
            raise os_error(getattr(exc, "filename", None) or self.folder, exc) from exc

    def _write_manifest(self, files: set[str]) -> None:
        doc = {
            "written_by": "flowopt",
            "about": "The files flowopt wrote in this folder. flowopt replaces only these and never touches any other file here.",
            "files": sorted(files),
        }
        write_text(self.folder / OUTPUTS_MANIFEST, json.dumps(doc, ensure_ascii=False, indent=2) + "\n", "the list of outputs")
