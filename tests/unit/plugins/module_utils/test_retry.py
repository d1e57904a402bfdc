"""The retry policy as pure decisions (the client tests run it over HTTP)."""

from __future__ import annotations

import email.utils

import pytest
from ansible_collections.imds.azure.plugins.module_utils import _retry
from ansible_collections.imds.azure.plugins.module_utils._retry import RetryState, parse_retry_after


def run_until_give_up(state: RetryState, **kwargs) -> list:
    """Feed the same failure until the policy gives up; return the waits it asked for."""
    now = state.started_at
    waits = []
    while True:
        decision = state.decide(now, **kwargs)
        if not decision.retry:
            return waits
        waits.append(decision.delay)
        now += decision.delay


def test_gone_is_retried_every_10_s_for_70_s():
    waits = run_until_give_up(RetryState(0.0, max_retry_time=1000), status=410)
    assert waits == [10.0] * 7
    assert sum(waits) == _retry.GONE_RETRY_WINDOW


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504, 599])
def test_transient_statuses_back_off_exponentially_with_a_cap(status):
    waits = run_until_give_up(RetryState(0.0, max_retry_time=1000), status=status)
    assert waits == [1.0, 2.0, 4.0, 8.0]


def test_backoff_is_capped(monkeypatch):
    monkeypatch.setattr(_retry, "TRANSIENT_MAX_RETRIES", 10)
    state = RetryState(0.0, max_retry_time=1000)
    state.transient_retries = 2
    waits = run_until_give_up(state, status=500)
    assert waits == [4.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0]


def test_transport_errors_are_transient():
    assert run_until_give_up(RetryState(0.0, 1000), retryable_error=True) == [1.0, 2.0, 4.0, 8.0]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 418])
def test_request_errors_are_never_retried(status):
    decision = RetryState(0.0, 1000).decide(0.0, status=status)
    assert not decision.retry
    assert decision.give_up_reason == "this error is not retried"


def test_identity_404_is_retried_like_a_transient_error():
    assert run_until_give_up(RetryState(0.0, 1000, retry_not_found=True), status=404) == [1.0, 2.0, 4.0, 8.0]


def test_retry_after_replaces_the_computed_wait():
    state = RetryState(0.0, 1000)
    assert state.decide(0.0, status=429, retry_after=3.0).delay == 3.0
    assert state.decide(3.0, status=429).delay == 2.0  # second retry: back to the schedule


def test_max_retry_time_bounds_the_total():
    waits = run_until_give_up(RetryState(0.0, max_retry_time=5), status=500)
    assert waits == [1.0, 2.0]  # a further 4 s wait would end at 7 s > 5 s
    decision = RetryState(0.0, max_retry_time=5).decide(0.0, status=429, retry_after=30.0)
    assert not decision.retry
    assert "max_retry_time" in decision.give_up_reason


def test_zero_max_retry_time_disables_retries():
    assert run_until_give_up(RetryState(0.0, max_retry_time=0), status=503) == []


@pytest.mark.parametrize("header, expected", [
    ("5", 5.0), (" 0 ", 0.0), ("", None), (None, None), ("soon", None), ("-3", None),
])
def test_parse_retry_after_seconds(header, expected):
    assert parse_retry_after(header) == expected


def test_parse_retry_after_http_date():
    now = 1_700_000_000.0
    header = email.utils.formatdate(now + 42, usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(42.0)
    past = email.utils.formatdate(now - 42, usegmt=True)
    assert parse_retry_after(past, now=now) == 0.0
