"""Replacing a file the user owns (`generate --from F --write`) so that no failure leaves it half
written: the new text goes to a temporary file beside it, is flushed to disk and given the original's
permission bits, then renamed over it (a rename replaces a directory entry in one step, and never follows
a symbolic link). Only a regular file is replaced: a symbolic link (which may point out of the
repository), a FIFO or a device is refused.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile


class WriteError(Exception):
    """The file cannot be replaced; the message is one line."""


def replace_file(path: str, text: str) -> None:
    """Write `text` over the regular file `path`, all or nothing. Raises WriteError."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise WriteError(f"cannot write {path}: {exc.strerror or exc}") from exc
    if stat.S_ISLNK(info.st_mode):
        raise WriteError(f"{path} is a symbolic link: --write replaces only a regular file (name the file it points to)")
    if not stat.S_ISREG(info.st_mode):
        raise WriteError(f"{path} is not a regular file: --write replaces only a regular file")
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise WriteError(f"cannot write beside {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(temporary, stat.S_IMODE(info.st_mode))
        os.replace(temporary, path)
    except BaseException as exc:  # a full disk, a file-size limit, an interrupt: the original stays
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise WriteError(f"cannot write {path}: {exc.strerror or exc} (the file is unchanged)") from exc
        raise
