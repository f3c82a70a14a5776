"""Live mode's limits (auditor.sources.deadline) without a network: the watchdog's deadlines for the whole
read and for one attempt, the handlers it registers on botocore's event system, the answer cap, the
thread pool of daemon threads, and botocore's client configuration. tests/test_live_faults.py drives the
same limits through the CLI against a fault-injecting server."""

from __future__ import annotations

import threading
import time

import botocore.session
import pytest

from auditor.sources.deadline import (
    ATTEMPT_TIMEOUTS,
    DEFAULT_ATTEMPTS,
    MAX_RESPONSE_BYTES,
    RUN_TIMEOUTS,
    TICK,
    AttemptDeadline,
    RunDeadline,
    Stopped,
    TooLarge,
    Watchdog,
    concurrently,
    config,
)

SLACK = 3.0  # seconds a loaded 2-core machine may add to a deadline's notice


def _timed(fn):
    start = time.monotonic()
    try:
        fn()
    except Exception as exc:
        return exc, time.monotonic() - start
    raise AssertionError("no deadline was raised")


def test_run_returns_the_reads_result_and_raises_its_own_error():
    watchdog = Watchdog(1.0)
    assert watchdog.run(lambda: ("policies", threading.current_thread().daemon)) == ("policies", True)
    error = KeyError("GroupName")

    def fails():
        raise error

    with pytest.raises(KeyError) as caught:
        watchdog.run(fails)
    assert caught.value is error


def test_the_whole_read_has_a_deadline_and_nothing_is_sent_after_it():
    watchdog = Watchdog(0.02)  # the whole read: 15 x 0.02 = 0.3 s
    release = threading.Event()
    exc, took = _timed(lambda: watchdog.run(lambda: release.wait(30)))
    release.set()
    assert isinstance(exc, RunDeadline) and exc.seconds == pytest.approx(RUN_TIMEOUTS * 0.02)
    assert RUN_TIMEOUTS * 0.02 <= took < RUN_TIMEOUTS * 0.02 + SLACK
    with pytest.raises(Stopped):  # the abandoned thread's next request never leaves
        watchdog.sending(event_name="before-send.iam.ListGroupPolicies")


def test_after_an_interrupt_nothing_is_sent():
    """Ctrl-C while the read runs reaches the waiting thread; the read's thread sends nothing more."""
    import _thread

    watchdog = Watchdog(10.0)
    release = threading.Event()
    threading.Timer(0.2, _thread.interrupt_main).start()
    with pytest.raises(KeyboardInterrupt):
        watchdog.run(lambda: release.wait(30))
    release.set()
    with pytest.raises(Stopped):
        watchdog.sending(event_name="before-send.iam.GetGroup")


def test_an_attempt_in_flight_too_long_is_named():
    watchdog = Watchdog(0.1)  # one attempt: 2 x 0.1 s; the read: 1.5 s

    def trickle():
        watchdog.sending(event_name="before-send.iam.GetGroup", request=None)
        time.sleep(30)  # the answer never finishes

    exc, took = _timed(lambda: watchdog.run(trickle))
    assert isinstance(exc, AttemptDeadline) and exc.operation == "iam:GetGroup"
    assert exc.seconds == pytest.approx(ATTEMPT_TIMEOUTS * 0.1)
    assert ATTEMPT_TIMEOUTS * 0.1 < took < ATTEMPT_TIMEOUTS * 0.1 + SLACK


@pytest.mark.slow
@pytest.mark.parametrize("ends", ["answered", "attempted"])
def test_an_attempt_ends_when_its_answer_is_read_or_it_failed(ends):
    """Between attempts (retry back-off, the audit's own work) no attempt limit runs: only the read's."""
    watchdog = Watchdog(0.2)  # one attempt: 0.4 s; the read: 3 s

    def read():
        watchdog.sending(event_name="before-send.iam.GetGroup")
        if ends == "answered":
            watchdog.answered(event_name="before-parse.iam.GetGroup", response_dict={"body": b"<ok/>"})
        else:
            assert watchdog.attempted(event_name="needs-retry.iam.GetGroup", attempts=1) is None
        time.sleep(ATTEMPT_TIMEOUTS * 0.2 + 4 * TICK)  # longer than one attempt may take
        return "done"

    assert watchdog.run(read) == "done"


def test_an_answer_over_the_cap_is_refused_before_it_is_parsed():
    watchdog = Watchdog(1.0)
    watchdog.answered(event_name="before-parse.iam.GetGroupPolicy", response_dict={"body": b"x" * MAX_RESPONSE_BYTES})
    with pytest.raises(TooLarge) as caught:
        watchdog.answered(event_name="before-parse.iam.GetGroupPolicy", response_dict={"body": b"x" * (MAX_RESPONSE_BYTES + 1)})
    assert (caught.value.operation, caught.value.size) == ("iam:GetGroupPolicy", MAX_RESPONSE_BYTES + 1)


def test_the_handlers_answer_botocores_event_names():
    """Registered through the public event system (a client's `meta.events`, a HierarchicalEmitter) by event
    name: every operation's before-send, before-parse and needs-retry reach them."""
    from botocore.hooks import HierarchicalEmitter

    events = HierarchicalEmitter()
    watchdog = Watchdog(0.02)  # one attempt: 0.04 s; the read: 0.3 s
    watchdog.watch(events)
    events.emit("before-send.iam.GetPolicyVersion", request=None)
    time.sleep(0.1)
    late = watchdog.overdue()
    assert isinstance(late, AttemptDeadline) and late.operation == "iam:GetPolicyVersion"
    responses = events.emit("needs-retry.iam.GetPolicyVersion", response=None, attempts=1, caught_exception=None)
    assert [response for _, response in responses] == [None]  # botocore's retry handler decides
    assert not isinstance(watchdog.overdue(), AttemptDeadline)
    with pytest.raises(TooLarge):
        events.emit("before-parse.iam.GetPolicyVersion", response_dict={"body": b"x" * (MAX_RESPONSE_BYTES + 1)})


def test_concurrently_keeps_the_order_and_raises_the_first_error_in_order():
    def slow_first(n):
        time.sleep(0.05 if n == 0 else 0)
        return n * n

    assert concurrently(slow_first, list(range(20)), 8) == [n * n for n in range(20)]
    begun = []

    def fails(n):
        begun.append(n)
        time.sleep(0.01)
        if n in (3, 5):
            raise ValueError(n)
        return n

    with pytest.raises(ValueError) as caught:
        concurrently(fails, list(range(200)), 4)
    assert caught.value.args == (3,)
    assert len(begun) < 200  # nothing is begun after an error


def test_concurrently_uses_daemon_threads_and_one_worker_is_the_calling_thread():
    caller = threading.current_thread()
    assert set(concurrently(lambda _: threading.current_thread().daemon, [1, 2, 3], 3)) == {True}
    assert concurrently(lambda _: threading.current_thread() is caller, [1, 2, 3], 1) == [True, True, True]


@pytest.mark.parametrize(("timeout", "connect"), [(20.0, 5.0), (1.0, 1.0)])
def test_botocores_configuration(timeout, connect):
    client = botocore.session.Session().create_client("iam", region_name="us-east-1", config=config(timeout, False, 8))
    seen = client.meta.config
    assert (seen.connect_timeout, seen.read_timeout, seen.max_pool_connections) == (connect, timeout, 8)
    assert seen.retries == {"mode": "standard", "total_max_attempts": DEFAULT_ATTEMPTS}


def test_a_configured_max_attempts_applies(monkeypatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
    client = botocore.session.Session().create_client("iam", region_name="us-east-1", config=config(20.0, True, 8))
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 3}
