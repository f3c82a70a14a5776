"""Every file the tool writes (`--output`, `--write-baseline`, `generate --output/--output-dir`,
`generate --from F --write`) is written so that no failure leaves it half written and no link is ever
followed: the text goes to a temporary file beside the target (created new, O_EXCL, so it never opens an
existing file or a link), is flushed to disk and given its permission bits, then renamed over the
target (a rename replaces a directory entry in one step, and replaces a link rather than follow it).

What may already stand at the target: a regular file (replaced, its permission bits kept) or nothing (a
new file gets the bits the umask allows). A symbolic link, which may point out of the repository, is
refused, and so are a directory, a FIFO and a device. A failed write (a full disk, a file-size limit,
an interrupt) removes the temporary file and leaves the target as it was: WriteError, one line, exit 2.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from typing import TextIO


class WriteError(Exception):
    """The file cannot be written; the message is one line."""


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_target(path: str, option: str = "--output", label: str | None = None) -> int | None:
    """The permission bits of the regular file at `path`, None when nothing is there. WriteError for a
    symbolic link, a directory, a FIFO or a device: nothing but a regular file is replaced. `label`:
    how messages name the file (default: its path)."""
    label = label or path
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WriteError(f"cannot write {label}: {exc.strerror or exc}") from exc
    if stat.S_ISLNK(info.st_mode):
        raise WriteError(f"{label} is a symbolic link: {option} replaces only a regular file (name the file it points to)")
    if not stat.S_ISREG(info.st_mode):
        from auditor.sources.file import not_regular

        raise WriteError(f"{label} is not a regular file ({not_regular(info.st_mode)}): {option} replaces only a regular file")
    return stat.S_IMODE(info.st_mode)


@contextlib.contextmanager
def writing(path: str, option: str = "--output", label: str | None = None) -> Iterator[TextIO]:
    """A text file to write `path`'s new content to: renamed over `path` when the block ends normally,
    removed (and `path` left as it was) when it raises. Raises WriteError (an OSError inside the block
    becomes one, naming the file as `label` does, by default its path)."""
    mode = check_target(path, option, label)
    label = label or path
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise WriteError(f"cannot write {label}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as fh:  # errors: as on stdout
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(temporary, mode if mode is not None else 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException as exc:  # a full disk, a file-size limit, an interrupt: the target stays as it was
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise WriteError(f"cannot write {label}: {exc.strerror or exc} ({_kept(mode)})") from exc
        raise


def _kept(mode: int | None) -> str:
    return "the file is unchanged" if mode is not None else "nothing was written"


def write_text(path: str, text: str, option: str = "--output", label: str | None = None) -> None:
    """`text` as the whole content of `path`, all or nothing. Raises WriteError."""
    with writing(path, option, label) as fh:
        fh.write(text)


def replace_file(path: str, text: str) -> None:
    """`generate --from F --write`: write `text` over the regular file `path`, which must exist. Raises
    WriteError."""
    try:
        os.lstat(path)
    except OSError as exc:
        raise WriteError(f"cannot write {path}: {exc.strerror or exc}") from exc
    write_text(path, text, "--write")


def directory(path: str, option: str = "--output-dir") -> None:
    """Make sure `path` is a directory to write into (created when missing, its parents too); WriteError
    for a symbolic link (its files would land wherever it points) or anything that is not a directory."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        try:
            os.makedirs(path)
        except OSError as exc:
            raise WriteError(f"cannot create {path}: {exc.strerror or exc}") from exc
        return
    except OSError as exc:
        raise WriteError(f"cannot write to {path}: {exc.strerror or exc}") from exc
    if stat.S_ISLNK(info.st_mode):
        raise WriteError(f"{path} is a symbolic link: {option} writes only into a directory (name the directory it points to)")
    if not stat.S_ISDIR(info.st_mode):
        raise WriteError(f"{path} is not a directory: {option} writes into a directory")
