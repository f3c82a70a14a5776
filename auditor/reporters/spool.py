"""Text a reporter writes now and copies to its output later (the JSON document's coverage comes after
every target's findings, for instance): kept in memory up to a limit, then in an unnamed temporary
file (deleted when closed, never a path anyone sees), so a run's memory does not grow with its output.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import IO, Protocol

LIMIT = 1024 * 1024  # characters kept in memory before the spool moves to a temporary file
CHUNK = 1 << 16


class Sink(Protocol):
    """Where text goes: an open text file, standard output, or a Spool."""

    def write(self, text: str, /) -> object: ...

    def flush(self) -> None: ...


class Spool:
    def __init__(self, limit: int = LIMIT) -> None:
        self._limit = limit
        self._parts: list[str] = []
        self._size = 0
        self._file: IO[str] | None = None

    def write(self, text: str) -> None:
        if self._file is not None:
            self._file.write(text)
            return
        self._parts.append(text)
        self._size += len(text)
        if self._size > self._limit:
            import tempfile  # only for big runs: tempfile's imports cost the cold start

            self._file = tempfile.TemporaryFile("w+", encoding="utf-8", errors="surrogatepass", newline="\n")
            self._file.write("".join(self._parts))
            self._parts = []

    def flush(self) -> None:  # rich's Console flushes the file it prints to
        pass

    @property
    def empty(self) -> bool:
        """Nothing written yet. (Not __bool__: rich's Console prints to `file or sys.stdout`, so an empty
        spool must stay truthy.)"""
        return self._size == 0 and self._file is None

    def copy_to(self, out: Sink) -> None:
        """Everything written, to `out`; the spool is then closed (and its file deleted)."""
        if self._file is None:
            out.write("".join(self._parts))
        else:
            self._file.seek(0)
            while chunk := self._file.read(CHUNK):
                out.write(chunk)
        self.close()

    def lines(self) -> Iterator[str]:
        """Everything written, line by line (a line ends at "\n" only, and keeps it); the spool is then
        closed."""
        if self._file is None:
            yield from io.StringIO("".join(self._parts), newline="\n")
        else:
            self._file.seek(0)
            yield from self._file
        self.close()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._parts = []
        self._size = 0
