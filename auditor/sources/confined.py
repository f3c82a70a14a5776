"""Reads confined to a repository: the files a Terraform configuration names by itself (`file()`,
`templatefile()`, `fileexists()`, the module's other `.tf` and `.tfvars` files, a local module's files)
and `--var-file` are read only when they are regular files inside the repository root. Any file of a
repository may come from a stranger's pull request, so nothing it names outside the repository is read
(`file("/proc/self/environ")`, `file("~/.aws/credentials")`, `file("../../../etc/passwd")`, a link in
the repository that points out of it), and nothing outside can be printed.

The root is the nearest directory at or above the module's that holds `.git` (a directory, or the file
a worktree or submodule has), else the directory of the path given on the command line.

How a path is read (`Confined.read`): it is resolved (`os.path.realpath`, every link followed) and must
lie inside the root's real path; it is then opened component by component from the root through
`openat` (`dir_fd`), each directory with O_NOFOLLOW and O_DIRECTORY and the file with O_NOFOLLOW,
O_NONBLOCK and O_NOCTTY, so a component swapped for a link after the check fails to open rather than
being followed out, and a FIFO or a device never blocks the read; the open file must be a regular file
(fstat) and is read up to its cap by the same code as policy files (`file.read_open`). A link inside the
repository that points inside it is read (its target is); one that points out is refused.
"""

from __future__ import annotations

import os
import stat

from auditor.sources.file import SourceError, not_regular, read_open

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_NOCTTY = getattr(os, "O_NOCTTY", 0)


def repository_root(directory: str) -> str | None:
    """The nearest directory at or above `directory` that holds `.git`, or None."""
    here = os.path.abspath(directory)
    while True:
        if os.path.lexists(os.path.join(here, ".git")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


class Confined:
    """Reads of regular files inside one root directory (see the module's docstring)."""

    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(root)

    def inside(self, path: str) -> bool:
        """Does `path`, every link followed, lie inside the root?"""
        real = os.path.realpath(path)
        return real == self.root or real.startswith(self.root.rstrip(os.sep) + os.sep)

    def read(self, path: str, limit: int, shown: str | None = None) -> bytes:
        """At most limit + 1 bytes of the regular file `path` inside the root; SourceError (one line,
        naming `shown`, the path as written) for a path outside the root, a link that leaves it, a FIFO,
        a device, a directory or a file that cannot be read."""
        shown = path if shown is None else shown
        real = os.path.realpath(os.path.expanduser(path) if path.startswith("~") else path)
        if not self.inside(real):
            raise SourceError(f"{shown}: outside the repository root, not read")
        parts = os.path.relpath(real, self.root).split(os.sep)
        try:
            fd = self._open(parts)
        except FileNotFoundError as exc:
            raise SourceError(f"{shown}: no such file") from exc
        except NotADirectoryError as exc:
            raise SourceError(f"{shown}: no such file") from exc
        except PermissionError as exc:
            raise SourceError(f"{shown}: permission denied") from exc
        except OSError as exc:  # ELOOP: a component became a link after the check
            raise SourceError(f"{shown}: cannot read ({exc.strerror or exc})") from exc
        try:
            info = os.fstat(fd)
            if stat.S_ISDIR(info.st_mode):
                raise SourceError(f"{shown}: a directory, not a file")
            return read_open(fd, shown, limit, info)
        except OSError as exc:
            raise SourceError(f"{shown}: cannot read ({exc.strerror or exc})") from exc
        finally:
            os.close(fd)

    def _open(self, parts: list[str]) -> int:
        """The file root/parts opened for reading without following any link below the root."""
        flags = os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _NOCTTY
        if os.open not in os.supports_dir_fd or not _NOFOLLOW:  # no openat: the resolved path, its last part not followed
            return os.open(os.path.join(self.root, *parts), flags)
        here = os.open(self.root, os.O_RDONLY | _DIRECTORY)
        try:
            for part in parts[:-1]:
                if part in ("", "."):
                    continue
                inner = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW, dir_fd=here)
                os.close(here)
                here = inner
            return os.open(parts[-1] if parts[-1] not in ("", ".") else ".", flags, dir_fd=here)
        finally:
            os.close(here)

    def kind(self, path: str) -> str | None:
        """None for a regular file inside the root (links followed), else what it is instead, one line."""
        if not self.inside(path):
            return "outside the repository root"
        try:
            return not_regular(os.stat(path).st_mode)
        except OSError:
            return "unreadable"
