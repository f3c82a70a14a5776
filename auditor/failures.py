"""What went wrong outside the audit, said in one line: a full disk, a closed standard output, a
number past Python's limit for turning digits into an int, a document nested past the recursion limit.
Each has its own message and exits 2 (the audit could not run), never "internal error"."""

from __future__ import annotations

import errno
import sys

_DISK = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exceeded",
         errno.EFBIG: "the file-size limit is reached", errno.EIO: "an input/output error"}


def digits_message(exc: BaseException) -> str | None:
    """For the ValueError int() raises past sys.get_int_max_str_digits(): a message that says so."""
    if isinstance(exc, ValueError) and "integer string conversion" in str(exc):
        return f"a number with more than {sys.get_int_max_str_digits():,} digits"
    return None


class OutputClosed(Exception):
    """Standard output's reader left (a broken pipe). Not an OSError: click turns an EPIPE OSError into
    exit 1, which would read as "findings"."""


class Stdout:
    """Standard output, with a broken pipe raised as OutputClosed."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError as exc:
            raise OutputClosed() from exc

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError as exc:
            raise OutputClosed() from exc

    def __getattr__(self, name: str):  # isatty, fileno, encoding, buffer...: the stream's
        return getattr(self._stream, name)


def describe(exc: BaseException) -> str | None:
    """The one-line message for an error the environment or the input caused, None for any other (a bug)."""
    if isinstance(exc, BrokenPipeError | OutputClosed):
        return "standard output was closed before the report was written (broken pipe): the report is incomplete"
    if isinstance(exc, OSError) and exc.errno == errno.EBADF:
        return "cannot write to standard output: it is closed"
    if isinstance(exc, OSError) and exc.errno in _DISK:
        where = exc.filename or "to standard output"  # the files the tool writes name themselves (auditor.atomic)
        return f"cannot write {where}: {_DISK[exc.errno]} ({exc.strerror})"
    if isinstance(exc, RecursionError):
        return "the input is nested too deeply to read (past Python's recursion limit)"
    digits = digits_message(exc)
    if digits:
        return f"the input holds {digits} (Python's limit for reading one)"
    if isinstance(exc, MemoryError):
        return "out of memory"
    return None


class ClosedStream:
    """Standard output when its file descriptor was closed before the run (Python then sets sys.stdout
    to None): writing to it raises the EBADF error `describe` names."""

    encoding = "utf-8"

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError(errno.EBADF, "standard output is closed")
