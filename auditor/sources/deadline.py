"""Live mode's limits on the network: a deadline for every request and for the whole read, and a size
cap on every answer.

botocore bounds each socket operation (connect_timeout, read_timeout), not a request: a server that
answers one byte a second would hold the audit forever; and it reads an answer whole, however large.
`bound(client, clock)` gives the client's endpoint an HTTP session (botocore's own, subclassed) whose
sockets, before every send and receive, take as their timeout the time left to the request's deadline
(`--timeout` from the start of the request, never past the run's deadline), and that reads each answer
itself, up to MAX_RESPONSE_BYTES. The classes are made per run, bound to its Clock: nothing global
changes. Imported only in live mode (botocore).
"""

from __future__ import annotations

import socket
import ssl
import threading
import time

MAX_RESPONSE_BYTES = 2 * 1024 * 1024  # one IAM answer (a page, a policy document); IAM's own are a few KB
RUN_TIMEOUTS = 15  # the whole live read may take this many --timeout (300 s by default)
_CHUNK = 64 * 1024


class RunDeadline(Exception):
    """The live read as a whole ran past its deadline."""


class TooLarge(Exception):
    """An answer larger than MAX_RESPONSE_BYTES."""


class Clock:
    """The run's deadline, and the deadline of the request each thread is making."""

    def __init__(self, request_timeout: float, run_timeout: float) -> None:
        self.request_timeout = request_timeout
        self.run_timeout = run_timeout
        self.run_deadline = time.monotonic() + run_timeout
        self._local = threading.local()

    def start(self) -> None:
        """A request begins on this thread: its deadline is --timeout from now, or the run's, if earlier."""
        now = time.monotonic()
        if now >= self.run_deadline:
            raise RunDeadline()
        self._local.deadline = min(now + self.request_timeout, self.run_deadline)

    def left(self) -> float | None:
        """Seconds left to this thread's request (None outside a request)."""
        deadline = getattr(self._local, "deadline", None)
        return None if deadline is None else deadline - time.monotonic()


class _Bounded:
    """A socket whose every operation waits at most until the current request's deadline."""

    clock: Clock  # set on the per-run subclasses
    _timeout: float | None = None

    def settimeout(self, value: float | None) -> None:
        self._timeout = value
        super().settimeout(value)  # type: ignore[misc]  # a mixin: the socket class after it in the MRO has settimeout

    def _arm(self) -> None:
        left = self.clock.left()
        if left is None:
            return
        if left <= 0:
            raise TimeoutError("the request's deadline has passed")
        super().settimeout(left if self._timeout is None else min(self._timeout, left))  # type: ignore[misc]  # a mixin, as above

    def recv(self, *args):
        self._arm()
        return super().recv(*args)

    def recv_into(self, *args):
        self._arm()
        return super().recv_into(*args)

    def send(self, *args):
        self._arm()
        return super().send(*args)

    def sendall(self, *args):
        self._arm()
        return super().sendall(*args)


def _read(raw, url: str) -> bytes:
    """The body of an answer, at most MAX_RESPONSE_BYTES; failures as botocore's own exceptions."""
    from botocore.exceptions import ConnectionClosedError, ReadTimeoutError
    from urllib3.exceptions import ProtocolError
    from urllib3.exceptions import ReadTimeoutError as Urllib3ReadTimeout

    chunks, size = [], 0
    try:
        while chunk := raw.read(_CHUNK):
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                raw.close()
                raise TooLarge()
            chunks.append(chunk)
    except (Urllib3ReadTimeout, TimeoutError) as exc:
        raise ReadTimeoutError(endpoint_url=url, error=exc) from exc
    except ProtocolError as exc:
        raise ConnectionClosedError(endpoint_url=url, error=exc) from exc
    return b"".join(chunks)


def bound(client, clock: Clock) -> None:
    """Give the boto3 client's endpoint an HTTP session with the clock's deadlines and the size cap."""
    from botocore.awsrequest import (
        AWSHTTPConnection,
        AWSHTTPConnectionPool,
        AWSHTTPSConnection,
        AWSHTTPSConnectionPool,
    )
    from botocore.httpsession import URLLib3Session

    class PlainSocket(_Bounded, socket.socket):
        pass

    class TlsSocket(_Bounded, ssl.SSLSocket):
        pass

    PlainSocket.clock = TlsSocket.clock = clock

    def rewrap(sock: socket.socket) -> socket.socket:
        timeout = sock.gettimeout()
        bounded = PlainSocket(sock.family, sock.type, sock.proto, fileno=sock.detach())
        bounded.settimeout(timeout)
        return bounded

    class Connection(AWSHTTPConnection):
        def _new_conn(self) -> socket.socket:
            return rewrap(super()._new_conn())

    class TlsConnection(AWSHTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return rewrap(super()._new_conn())

    class Pool(AWSHTTPConnectionPool):
        ConnectionCls = Connection

    class TlsPool(AWSHTTPSConnectionPool):
        ConnectionCls = TlsConnection

    class Session(URLLib3Session):
        def _get_ssl_context(self):
            context = super()._get_ssl_context()
            context.sslsocket_class = TlsSocket  # TLS over the bounded socket stays bounded
            return context

        def send(self, request):
            clock.start()
            streamed = request.stream_output
            request.stream_output = True  # the body is read here, within the cap
            try:
                response = super().send(request)
            finally:
                request.stream_output = streamed
            if not streamed:
                response._content = _read(response.raw, request.url)
            return response

    endpoint = client._endpoint
    old = endpoint.http_session
    session = Session.__new__(Session)
    session.__dict__.update(old.__dict__)  # botocore's settings: timeouts, proxies, certificates, pool size
    session._pool_classes_by_scheme = {"http": Pool, "https": TlsPool}
    session._proxy_managers = {}
    from urllib3 import PoolManager

    session._manager = PoolManager(**session._get_pool_manager_kwargs())
    session._manager.pool_classes_by_scheme = session._pool_classes_by_scheme
    old.close()
    endpoint.http_session = session
