"""Live mode's limits in time and size, on botocore's supported seams only: its public `Config`, handlers
on its event system (`client.meta.events`), and a watchdog around the whole read.

- botocore's own timeouts (`config`): a connection must be made within min(5, --timeout) seconds and no
  socket read may wait longer than --timeout. Such an attempt fails and botocore retries it in standard
  mode (AWS_MAX_ATTEMPTS or the profile's max_attempts when set, else DEFAULT_ATTEMPTS attempts).
- the watchdog (`Watchdog.run`): the read runs on daemon threads while the caller waits at most
  RUN_TIMEOUTS x --timeout for all of it, and at most ATTEMPT_TIMEOUTS x --timeout for any one attempt
  (from `before-send` until its answer has been read, `before-parse`, or it failed, `needs-retry`). A
  socket timeout bounds one read, not a request: an answer that keeps trickling in, a byte within every
  read timeout, is what the attempt limit stops. botocore has no supported way to abort a request in
  flight, so the watchdog stops waiting instead: the read ends with an error, the attempt is not retried,
  and the abandoned threads make no further request (`before-send` refuses once the watchdog has given
  up); being daemon threads, they never hold up the process's exit.
- the answer cap (`before-parse`): an answer larger than MAX_RESPONSE_BYTES is refused before botocore
  parses it. botocore reads an answer whole before any supported hook sees it, so the cap bounds what is
  parsed (the XML, the policy documents), not what is read: the read is bounded in time only.

Config's tcp_keepalive stays off: the kernel's first probe comes after hours of silence (Linux: 2 h),
long past every deadline here.

Imported only in live mode; botocore is imported by `config` alone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

MAX_RESPONSE_BYTES = 2 * 1024 * 1024  # one IAM answer (a page, a policy document); IAM's own are a few KB
RUN_TIMEOUTS = 15  # the whole live read may take this many --timeout (300 s by default)
ATTEMPT_TIMEOUTS = 2  # one attempt may take this many --timeout: a connect (at most one) and a silence (one)
MAX_CONNECT_TIMEOUT = 5.0  # seconds: a connection that takes longer is not coming
DEFAULT_ATTEMPTS = 7  # attempts of one request, the first included (6 retries), unless the user set max_attempts
TICK = 0.05  # seconds between the watchdog's looks at the clock: how late it may notice a deadline

T = TypeVar("T")
R = TypeVar("R")


class RunDeadline(Exception):
    """The live read as a whole ran past its deadline."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the live read took longer than {seconds:g} s")
        self.seconds = seconds


class AttemptDeadline(Exception):
    """One attempt at a request was still under way past its limit (an answer trickling in)."""

    def __init__(self, operation: str, seconds: float) -> None:
        super().__init__(f"an attempt at {operation} took longer than {seconds:g} s")
        self.operation = operation
        self.seconds = seconds


class TooLarge(Exception):
    """An answer larger than MAX_RESPONSE_BYTES."""

    def __init__(self, operation: str, size: int) -> None:
        super().__init__(f"the answer to {operation} has {size} bytes")
        self.operation = operation
        self.size = size


class Stopped(Exception):
    """A request begun after the watchdog gave up (on a thread it abandoned)."""


def config(timeout: float, attempts_configured: bool, connections: int) -> Any:  # a botocore Config (no types)
    """botocore's client configuration for live mode: its timeouts, standard retries, and `connections`
    pooled connections (one per thread of the read). `attempts_configured`: the user set max_attempts
    (AWS_MAX_ATTEMPTS or the profile's), which then applies."""
    from botocore.config import Config

    retries: dict[str, object] = {"mode": "standard"}
    if not attempts_configured:
        retries["total_max_attempts"] = DEFAULT_ATTEMPTS
    return Config(connect_timeout=min(MAX_CONNECT_TIMEOUT, timeout), read_timeout=timeout, retries=retries,
                  max_pool_connections=connections)


def _operation(event_name: str) -> str:
    """`before-send.iam.GetGroup` -> `iam:GetGroup`."""
    parts = event_name.split(".")
    return f"{parts[1]}:{parts[2]}" if len(parts) >= 3 else event_name


class Watchdog:
    """The deadlines of one live read: `watch` a client's events, then `run` the read."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.attempt_limit = ATTEMPT_TIMEOUTS * timeout
        self.run_limit = RUN_TIMEOUTS * timeout
        self._run_deadline = time.monotonic() + self.run_limit
        self._lock = threading.Lock()
        self._attempts: dict[int, tuple[str, float]] = {}  # thread -> the operation it is sending, since when
        self._stopped = threading.Event()

    def watch(self, events: Any) -> None:
        """Register the handlers on a botocore client's event system (`client.meta.events`)."""
        events.register("before-send", self.sending)
        events.register("before-parse", self.answered)
        events.register("needs-retry", self.attempted)

    def sending(self, event_name: str = "", **kwargs: Any) -> None:
        """before-send: an attempt begins on this thread (refused once the watchdog has given up)."""
        if self._stopped.is_set():
            raise Stopped()
        with self._lock:
            self._attempts[threading.get_ident()] = (_operation(event_name), time.monotonic())

    def answered(self, event_name: str = "", response_dict: dict | None = None, **kwargs: Any) -> None:
        """before-parse: the attempt's answer has been read; refused if larger than MAX_RESPONSE_BYTES."""
        self._finished()
        body = (response_dict or {}).get("body")
        if isinstance(body, (bytes, bytearray)) and len(body) > MAX_RESPONSE_BYTES:
            raise TooLarge(_operation(event_name), len(body))

    def attempted(self, **kwargs: Any) -> None:
        """needs-retry: the attempt is over (answered or failed). Returns None: botocore's own retry
        handler decides whether to retry."""
        self._finished()

    def _finished(self) -> None:
        with self._lock:
            self._attempts.pop(threading.get_ident(), None)

    def overdue(self) -> Exception | None:
        """The deadline that has passed, if one has: an attempt's (naming its operation), or the run's."""
        now = time.monotonic()
        with self._lock:
            late = [operation for operation, start in self._attempts.values() if now - start > self.attempt_limit]
        if late:
            return AttemptDeadline(min(late), self.attempt_limit)
        if now >= self._run_deadline:
            return RunDeadline(self.run_limit)
        return None

    def run(self, read: Callable[[], T]) -> T:
        """read() on a daemon thread: its result or its exception, unless a deadline passes first, which is
        then raised here; after a deadline or an interrupt (KeyboardInterrupt) no request begins."""
        done = threading.Event()
        outcome: list[tuple[bool, Any]] = []

        def work() -> None:
            try:
                outcome.append((True, read()))
            except BaseException as exc:  # noqa: B036 - handed to the waiting thread, which raises it
                outcome.append((False, exc))
            finally:
                done.set()

        threading.Thread(target=work, name="live read", daemon=True).start()
        try:
            while not done.wait(TICK):
                late = self.overdue()
                if late is not None:
                    raise late
        except BaseException:  # a deadline, or Ctrl-C: no request begins after it
            self._stopped.set()
            raise
        ok, value = outcome[0]
        if not ok:
            raise value
        return value


def concurrently(fn: Callable[[T], R], items: Sequence[T], workers: int) -> list[R]:
    """fn over items on at most `workers` threads, results in the items' order; the error of the first
    failing item (in the items' order) is raised, and no item is begun after an error. Daemon threads, not
    concurrent.futures' (which the interpreter joins at exit): a thread the watchdog abandoned, stuck in a
    trickling answer, must not hold up the exit."""
    if len(items) <= 1 or workers <= 1:
        return [fn(item) for item in items]
    results: list[Any] = [None] * len(items)
    errors: dict[int, BaseException] = {}
    lock = threading.Lock()
    pending = iter(range(len(items)))

    def work() -> None:
        while True:
            with lock:
                index = None if errors else next(pending, None)
            if index is None:
                return
            try:
                results[index] = fn(items[index])
            except BaseException as exc:  # noqa: B036 - raised by the calling thread below
                with lock:
                    errors[index] = exc

    threads = [threading.Thread(target=work, name="live read", daemon=True) for _ in range(min(workers, len(items)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[min(errors)]
    return results
