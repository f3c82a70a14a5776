"""Policy files and stdin. Reading problems that stop the audit raise SourceError (exit 2); a file
that is read but is not a valid policy becomes a Policy with problems (an `invalid` finding)."""

from __future__ import annotations

import os
import stat
import sys
from typing import BinaryIO

from auditor.model import Policy, Problem, decode_text, parse_policies

MAX_BYTES = 2 * 1024 * 1024  # IAM's own limits are far lower (10,240 characters for an inline policy)
MAX_RUN_BYTES = 256 * 1024 * 1024  # all the files of one run together: what one run holds in memory
STDIN = "-"
STDIN_NAME = "<stdin>"


class SourceError(Exception):
    """The audit cannot run: a path that cannot be read."""


def policies_from_bytes(raw: bytes, source: str) -> tuple[Policy, ...]:
    """The file's documents: one, or one per element of a JSON array of documents."""
    if len(raw) > MAX_BYTES:
        problem = Problem("", f"refused: larger than {MAX_BYTES // (1024 * 1024)} MiB; IAM policies are at most a few KB", source)
        return (Policy(source, "", (), (problem,)),)
    if b"\x00" in raw and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return (Policy(source, "", (), (Problem("", "not a policy: binary data (NUL bytes)", source),)),)
    text, error = decode_text(raw)
    if text is None:
        return (Policy(source, "", (), (Problem("", f"not a policy: {error}", source),)),)
    return parse_policies(text, source)


def read_bytes(path: str, limit: int = MAX_BYTES, stdin: BinaryIO | None = None) -> bytes:
    """At most limit + 1 bytes of a file, or of standard input for '-'; SourceError names what failed."""
    if path == STDIN:
        if stdin is None and (sys.stdin is None or not hasattr(sys.stdin, "buffer")):
            raise SourceError("standard input is closed; pass a file, or pipe the policy in")
        stream = stdin if stdin is not None else sys.stdin.buffer
        try:
            return stream.read(limit + 1)
        except (OSError, ValueError) as exc:
            raise SourceError(f"cannot read standard input: {exc}") from exc
    directory = f"{path}: is a directory; pass the policy files in it"
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat on the open file then decides, so a
        # file swapped for a FIFO or a device after a check is still refused. A directory is found there
        # too (no stat of the path first), or when it cannot be opened
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        except OSError:
            if os.path.isdir(path):
                raise SourceError(directory) from None
            raise
        try:
            info = os.fstat(fd)
            if stat.S_ISDIR(info.st_mode):
                raise SourceError(directory)
            return read_open(fd, path, limit, info)
        finally:
            os.close(fd)
    except FileNotFoundError as exc:
        raise SourceError(f"{path}: no such file") from exc
    except PermissionError as exc:
        raise SourceError(f"{path}: permission denied") from exc
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc.strerror or exc})") from exc


def read_open(fd: int, path: str, limit: int, info: os.stat_result | None = None) -> bytes:
    """At most limit + 1 bytes of the open file `fd`, which must be a regular file (fstat on the open
    descriptor decides, so a file swapped for a FIFO or a device after a check is still refused);
    SourceError otherwise. `info`: the descriptor's fstat when the caller has it. The caller closes `fd`."""
    info = os.fstat(fd) if info is None else info
    kind = not_regular(info.st_mode)
    if kind:
        raise SourceError(f"{path}: not a regular file ({kind}); only files are read")
    # reading limit + 1 would allocate 2 MiB for every small policy: ask for the file's size + 1
    # first; only a file that grew is read on, up to the limit
    size = min(info.st_size, limit)
    data = _read_fd(fd, size + 1)
    return data if len(data) <= size else data + _read_fd(fd, limit + 1 - len(data))


def _read_fd(fd: int, count: int) -> bytes:
    """Up to `count` bytes from the file descriptor: fewer only at the end of the file (os.read may stop
    short; an io buffer around the descriptor would cost more than the read of a small policy)."""
    data = os.read(fd, count)
    if len(data) in (0, count):
        return data
    parts = [data]
    got = len(data)
    while got < count:
        chunk = os.read(fd, count - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def check_run_size(paths: list[str]) -> None:
    """SourceError when the files of one run add up to more than MAX_RUN_BYTES (sizes as the file system
    gives them; each file is also read up to its own cap)."""
    total = 0
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            continue  # reported when it is read
        if stat.S_ISREG(info.st_mode):
            total += info.st_size
    if total > MAX_RUN_BYTES:
        raise SourceError(f"the {len(paths):,} files add up to {total // (1024 * 1024):,} MiB, more than the "
                          f"{MAX_RUN_BYTES // (1024 * 1024)} MiB one run reads: audit them in parts")


def not_regular(mode: int) -> str | None:
    """What a file that is not a regular file is ("a FIFO", "a device", ...), or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a file"


def read_documents(path: str, stdin: BinaryIO | None = None) -> tuple[Policy, ...]:
    """The policy documents of one file (several when it holds a JSON array of documents)."""
    return policies_from_bytes(read_bytes(path, stdin=stdin), STDIN_NAME if path == STDIN else path)


def read_policy(path: str, stdin: BinaryIO | None = None) -> Policy:
    """One policy document; a file that holds several is a SourceError."""
    docs = read_documents(path, stdin)
    if len(docs) > 1:
        raise SourceError(f"{docs[0].source} holds {len(docs)} policy documents (a JSON array); give one document")
    return docs[0]


def read_policies(paths: list[str], stdin: BinaryIO | None = None) -> list[Policy]:
    """Every document of every file, in order; documents of one file share its source."""
    if paths.count(STDIN) > 1:
        raise SourceError("'-' (standard input) can be given only once")
    return [doc for p in paths for doc in read_documents(p, stdin)]


def looks_like_policy(policy: Policy) -> bool:
    """For the pre-commit hook: is this JSON file meant to be an IAM policy? package.json,
    tsconfig.json (JSON with comments) and other JSON files are not; a broken file that mentions
    "Statement" is, so its problem gets reported."""
    if policy.statements:
        return True
    messages = [p.message for p in policy.problems]
    if any(m.startswith("not an IAM policy: no Statement element") for m in messages):
        return False
    if any(m.startswith(("not JSON", "not a policy", "file is empty", "not an IAM policy: the document is")) for m in messages):
        return '"Statement"' in policy.text
    return True
