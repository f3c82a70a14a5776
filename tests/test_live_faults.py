"""Live-mode faults, injected by a small HTTP proxy on 127.0.0.1 in front of a moto server:
throttling that clears and that does not, 5xx, timeouts, malformed responses, AccessDenied on one read.
Every failure is one line and exit 2, never a traceback, never a credential."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import run_cli
from tests.test_live import FAKE, endpoint  # noqa: F401  (the moto server fixture)

pytestmark = pytest.mark.slow  # a moto server behind a fault-injecting proxy; timeouts

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"
CREDS = {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLEKEYID1234", "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN,
         "AWS_DEFAULT_REGION": "us-east-1"}


def _error(code: str, status: int) -> tuple[int, bytes]:
    body = (f'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
            f"<Code>{code}</Code><Message>injected {code}</Message></Error><RequestId>1</RequestId></ErrorResponse>")
    return status, body.encode()


class Faults:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.mode: dict[str, object] = {}
        self.requests = 0

    def answer(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes, str]:
        self.requests += 1
        form = dict(p.split("=", 1) for p in body.decode().split("&") if "=" in p)
        action = form.get("Action", "")
        mode = self.mode
        if mode.get("throttle", 0) and self.requests <= int(mode["throttle"]):  # type: ignore[arg-type]
            return (*_error("Throttling", 400), "text/xml")
        if mode.get("deny") == action:
            return (*_error("AccessDenied", 403), "text/xml")
        if mode.get("status500"):
            return (*_error("ServiceUnavailable", 503), "text/xml")
        if mode.get("garbage"):
            return 200, b"<<<this is not xml", "text/xml"
        if mode.get("sleep"):
            time.sleep(float(mode["sleep"]))  # type: ignore[arg-type]
        req = urllib.request.Request(self.upstream + "/", data=body, method="POST",
                                     headers={k: v for k, v in headers.items() if k.lower() != "host"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.read(), resp.headers.get("Content-Type", "text/xml")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), exc.headers.get("Content-Type", "text/xml")


@pytest.fixture
def proxy(endpoint):  # noqa: F811
    faults = Faults(endpoint)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                try:
                    status, payload, ctype = faults.answer(body, dict(self.headers))
                except OSError:
                    status, payload, ctype = 502, b"upstream gone", "text/plain"
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    faults.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield faults
    server.shutdown()
    server.server_close()


def live(proxy, *args):
    return run_cli("live", "--group", "Jets", "--endpoint-url", proxy.url, *args, env_extra=CREDS)


def _one_line_exit_2(proc, starts: str) -> str:
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert err.startswith(f"jets-iam-audit: error: {starts}"), err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert SECRET not in err and TOKEN not in err and proc.stdout == b""
    return err


def test_throttling_burst_that_clears(proxy):
    proxy.mode = {"throttle": 2}
    proc = live(proxy, "--format", "json")
    assert proc.returncode == 1 and json.loads(proc.stdout)["targets"][0]["name"] == "Jets"


def test_throttling_that_does_not_clear(proxy):
    proxy.mode = {"throttle": 10_000}
    start = time.monotonic()
    proc = run_cli("live", "--group", "Jets", "--endpoint-url", proxy.url, env_extra={**CREDS, "AWS_MAX_ATTEMPTS": "3"})
    _one_line_exit_2(proc, "AWS kept throttling iam:GetGroup after retries")
    assert proxy.requests == 3
    assert time.monotonic() - start < 90


def test_server_errors(proxy):
    proxy.mode = {"status500": True}
    _one_line_exit_2(live(proxy), "AWS error ServiceUnavailable in iam:GetGroup")


def test_access_denied_on_one_read(proxy):
    proxy.mode = {"deny": "GetPolicyVersion"}
    err = _one_line_exit_2(live(proxy), "access denied to iam:GetPolicyVersion")
    assert "read access to IAM" in err


def test_malformed_response(proxy):
    proxy.mode = {"garbage": True}
    _one_line_exit_2(live(proxy), "AWS request failed")


def test_timeout(proxy):
    proxy.mode = {"sleep": 3}
    start = time.monotonic()
    _one_line_exit_2(live(proxy, "--timeout", "0.5"), "the AWS IAM endpoint did not answer in time")
    assert time.monotonic() - start < 60


def test_no_secrets_even_when_verbose(proxy):
    proxy.mode = {}
    proc = live(proxy, "--verbose", "--format", "json")
    assert proc.returncode == 1
    out = proc.stdout.decode() + proc.stderr.decode()
    assert "group Jets: 2 policies (group/Jets/inline/JetsPolicy" in proc.stderr.decode()
    assert SECRET not in out and TOKEN not in out and CREDS["AWS_ACCESS_KEY_ID"] not in out
