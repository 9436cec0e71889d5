"""Writes that never destroy what they did not create, and survive a crash at any instant.

Two kinds of writes use this module: snapshot folders (:func:`crm_core.data.snapshot.
write_snapshot`, so ``crm build``, ``crm sample`` and the "Your data" page) and single
files (saved what-if scenarios).

Folders
-------
* A target folder must be absent, empty, or an earlier result of the same writer (for a
  snapshot: a folder holding ``manifest.json`` and nothing but snapshot files).
  Anything else is refused, naming what is there (:func:`check_folder_target`).
* The new content is written to a hidden sibling ``.<name>.tmp-<token>`` and moved into
  place by one atomic exchange of the two folders (Linux ``renameat2(RENAME_EXCHANGE)``):
  at every instant ``<name>`` is the complete old folder or the complete new one. Where the
  exchange is not available (another OS, a file system without it), the complete new folder
  is first renamed ``.<name>.new-<token>``, the old one moved aside to ``.<name>.old-<token>``
  and the new one moved in; a crash between those two renames leaves ``<name>`` missing
  until the next write to it (or :func:`recover`) moves the complete new one in.
* Leftovers of killed writers are removed by the next write to the same target. A writer
  holds an advisory lock (``flock``) on its temporary folder while it lives, so another
  writer never removes the folder of one still running.

Files
-----
:func:`write_file_atomic` writes a temporary file in the same folder (locked while
written), flushes it to disk and ``os.replace``-s it over the target, which must be absent
or accepted by the caller's ``may_replace`` check; temporary files of killed writers are
removed by the next write in that folder.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import secrets
import shutil
import sys
import tempfile
from collections.abc import Callable, Collection, Iterator
from pathlib import Path

from crm_core.errors import SnapshotError

try:  # POSIX advisory locks; elsewhere writes still work, leftovers are kept
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "TempFolder",
    "check_folder_target",
    "fsync_tree",
    "leftovers",
    "recover",
    "replace_folder",
    "temp_folder",
    "write_file_atomic",
]

_KINDS = ("tmp", "new", "old")
_SHOWN = 5


def _token() -> str:
    return f"{os.getpid()}-{secrets.token_hex(4)}"


def _leftover_re(name: str) -> re.Pattern[str]:
    # mkdtemp appends random characters to the prefix
    return re.compile(rf"\.{re.escape(name)}\.({'|'.join(_KINDS)})-[0-9]+-[0-9a-f]+.*")


def leftovers(target: str | os.PathLike[str]) -> list[Path]:
    """Hidden ``.<name>.tmp-*`` / ``.new-*`` / ``.old-*`` siblings of ``target``."""
    target = _absolute(target)
    pattern = _leftover_re(target.name)
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return []
    return sorted(p for p in entries if pattern.fullmatch(p.name))


def _absolute(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.abspath(os.fspath(path)))


# ----------------------------------------------------------------------------- locks


@contextlib.contextmanager
def _locked(folder: Path, *, blocking: bool = True) -> Iterator[bool]:
    """Exclusive advisory lock on ``folder`` (yields False if not obtained when
    ``blocking`` is off, or True when locking is unavailable)."""
    if fcntl is None:
        yield True
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        yield True
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        except OSError:  # file systems without flock: behave as unlocked
            yield True
            return
        yield True
    finally:
        os.close(fd)


def _abandoned(path: Path) -> bool:
    """Whether no live writer holds ``path`` (its lock can be taken right now)."""
    if fcntl is None:
        return False
    with _locked(path, blocking=False) as free:
        return free


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


# ----------------------------------------------------------------------------- folders


def check_folder_target(
    target: str | os.PathLike[str],
    *,
    marker: str,
    owned: Collection[str],
    inputs: Collection[str | os.PathLike[str]] = (),
    what: str = "snapshot",
) -> None:
    """Refuse to replace anything but an absent or empty folder or an earlier ``what``.

    Parameters
    ----------
    target
        Folder about to be written.
    marker
        File that marks an earlier result (``manifest.json``).
    owned
        Names of every entry such a result may hold.
    inputs
        Files being read for this write, named if they lie inside ``target``.
    what
        Word for the kind of folder, in messages.

    Raises
    ------
    SnapshotError
        Naming ``target`` and what is in it.
    """
    folder = _absolute(target)
    if folder.is_symlink():
        raise SnapshotError(
            str(folder),
            f"is a symbolic link (to {os.readlink(folder)}); write to the folder itself",
        )
    if not folder.exists():
        return
    if not folder.is_dir():
        raise SnapshotError(str(folder), f"is a file, not a folder: choose a folder for the {what}")
    entries = sorted(folder.iterdir())
    if not entries:
        return
    read = {_absolute(p) for p in inputs}
    held = [p.name for p in entries if p in read or any(r.is_relative_to(p) for r in read)]
    if held and not set(held) <= set(owned):
        raise SnapshotError(
            str(folder),
            f"holds the file being read ({', '.join(held[:_SHOWN])}); replacing the folder "
            f"would delete it: write the {what} to another folder",
        )
    names = [p.name + ("/" if p.is_dir() else "") for p in entries]
    extra = [n for n, p in zip(names, entries, strict=True) if p.name not in owned or p.is_dir()]
    if (folder / marker).is_file() and not extra:
        return
    shown = ", ".join(extra[:_SHOWN] if extra else names[:_SHOWN])
    more = len(extra or names) - _SHOWN
    listing = shown + (f" and {more:,} more" if more > 0 else "")
    if (folder / marker).is_file():
        raise SnapshotError(
            str(folder),
            f"is a {what} that also holds other files ({listing}); replacing it would delete "
            f"them: move them out first or write to another folder",
        )
    raise SnapshotError(
        str(folder),
        f"is not empty and not a {what} (it holds {listing}); replacing it would delete "
        f"them: write to a new or empty folder, or to an existing {what}",
    )


class TempFolder:
    """A locked temporary folder beside a target (see :func:`temp_folder`)."""

    def __init__(self, target: Path) -> None:
        self.target = target
        with _locked(target.parent):
            self.path = Path(
                tempfile.mkdtemp(prefix=f".{target.name}.tmp-{_token()}", dir=target.parent)
            )
            self._fd: int | None = None
            if fcntl is not None:
                self._fd = os.open(self.path, os.O_RDONLY)
                with contextlib.suppress(OSError):
                    fcntl.flock(self._fd, fcntl.LOCK_EX)

    def close(self) -> None:
        """Release the lock (the folder itself is left to its owner)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def temp_folder(target: str | os.PathLike[str]) -> TempFolder:
    """Create ``.<name>.tmp-<token>`` beside ``target``, locked for this process."""
    folder = _absolute(target)
    folder.parent.mkdir(parents=True, exist_ok=True)
    return TempFolder(folder)


def recover(
    target: str | os.PathLike[str], is_complete: Callable[[Path], bool] | None = None
) -> list[str]:
    """Finish or undo interrupted writes to ``target``, then remove abandoned leftovers.

    If ``target`` is missing, the newest complete new folder (``.new-*``) is moved in, or
    else the newest previous one (``.old-*``) is moved back. Leftovers still locked by a
    live writer are kept. ``is_complete`` (e.g. "loads as a snapshot") vets a folder
    before it is moved in.

    Returns
    -------
    list[str]
        One sentence per action taken (empty when there was nothing to do).
    """
    folder = _absolute(target)
    if not folder.parent.is_dir():
        return []
    pattern = _leftover_re(folder.name)
    done: list[str] = []
    with _locked(folder.parent):
        found = sorted(
            (p for p in folder.parent.iterdir() if pattern.fullmatch(p.name)),
            key=lambda p: p.stat().st_mtime_ns if p.exists() else 0,
            reverse=True,
        )
        if not folder.exists() and not folder.is_symlink():
            for kind in ("new", "old"):
                ready = [
                    p
                    for p in found
                    if f".{kind}-" in p.name
                    and _abandoned(p)
                    and (is_complete is None or is_complete(p))
                ]
                if ready:
                    ready[0].rename(folder)
                    _fsync_dir(folder.parent)
                    found.remove(ready[0])
                    state = "the new" if kind == "new" else "the previous"
                    done.append(f"restored {state} {folder.name} left by an interrupted write")
                    break
        stale = [p for p in found if _abandoned(p)]
    for path in stale:
        _remove(path)
        done.append(f"removed {path.name} left by an interrupted write")
    return done


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2``); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(b))


def replace_folder(tmp: TempFolder, check: Callable[[], None] | None = None) -> Path:
    """Move the complete folder ``tmp`` into place at its target, atomically.

    ``check`` runs under the lock just before the swap (the target may have changed since
    it was first checked) and raises to refuse.
    """
    target = tmp.target
    old: Path | None = None
    with _locked(target.parent):
        if check is not None:
            check()
        if target.exists():
            if _exchange(tmp.path, target):
                old = tmp.path.rename(target.with_name(f".{target.name}.old-{_token()}"))
            else:
                new = tmp.path.rename(target.with_name(f".{target.name}.new-{_token()}"))
                old = target.rename(target.with_name(f".{target.name}.old-{_token()}"))
                try:
                    new.rename(target)
                except BaseException:
                    old.rename(target)
                    old = None
                    raise
        else:
            tmp.path.rename(target)
        _fsync_dir(target.parent)
    tmp.close()
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target


def fsync_tree(folder: Path) -> None:
    """Flush every file directly in ``folder`` and the folder itself to disk."""
    for file in folder.iterdir():
        if file.is_file():
            fd = os.open(file, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
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


# ----------------------------------------------------------------------------- files


def write_file_atomic(
    path: str | os.PathLike[str],
    data: bytes,
    *,
    temp_prefix: str,
    may_replace: Callable[[Path], None] | None = None,
) -> Path:
    """Write ``data`` to ``path`` through a locked temporary file and ``os.replace``.

    Parameters
    ----------
    path
        File to write; its folder is created if missing.
    data
        The complete new content.
    temp_prefix
        Prefix of temporary files in the folder (``.scenario-``); abandoned ones with this
        prefix and the ``.tmp`` suffix are removed first.
    may_replace
        Called with ``path`` when it exists, under the folder's lock; raises to refuse.

    Raises
    ------
    ValueError
        If the folder cannot be created (a file is in the way).
    """
    target = _absolute(path)
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ValueError(f"{folder} is not a folder; cannot save {target.name} there") from None
    with _locked(folder):
        for stale in folder.glob(f"{temp_prefix}*.tmp"):
            if _abandoned_file(stale):
                with contextlib.suppress(FileNotFoundError):
                    stale.unlink()
        if may_replace is not None and (target.exists() or target.is_symlink()):
            may_replace(target)
        fd, temp = tempfile.mkstemp(dir=folder, prefix=temp_prefix, suffix=".tmp")
        try:
            if fcntl is not None:
                with contextlib.suppress(OSError):
                    fcntl.flock(fd, fcntl.LOCK_EX)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        _fsync_dir(folder)
    return target


def _abandoned_file(path: Path) -> bool:
    if fcntl is None:
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    else:
        return True
    finally:
        os.close(fd)
