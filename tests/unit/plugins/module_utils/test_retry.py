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


def ceilings(max_retry_time: float = 1000, **kwargs) -> RetryState:
    """A policy whose full jitter always draws the top of the range: the waits are the ceilings."""
    return RetryState(0.0, max_retry_time, jitter=lambda: 1.0, **kwargs)


def test_gone_is_retried_every_10_s_for_70_s():
    waits = run_until_give_up(ceilings(), status=410)
    assert waits == [10.0] * 7
    assert sum(waits) == _retry.GONE_RETRY_WINDOW


def test_gone_honours_retry_after_within_its_window():
    state = ceilings()
    assert state.decide(0.0, status=410, retry_after=5.0).delay == 5.0
    decision = state.decide(65.0, status=410, retry_after=6.0)
    assert not decision.retry
    assert decision.give_up_reason == "IMDS kept answering 410 Gone for the whole 70 s retry window"


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504, 599])
def test_transient_statuses_back_off_exponentially(status):
    state = ceilings()
    waits = run_until_give_up(state, status=status)
    assert waits == [1.0, 2.0, 4.0, 8.0]
    assert state.decide(15.0, status=status).give_up_reason == "4 retries were used up"


def test_backoff_is_capped(monkeypatch):
    monkeypatch.setattr(_retry, "TRANSIENT_MAX_RETRIES", 10)
    state = ceilings()
    state.transient_retries = 2
    waits = run_until_give_up(state, status=500)
    assert waits == [4.0, 8.0, 16.0, 32.0, 32.0, 32.0, 32.0, 32.0]


def test_full_jitter_draws_between_zero_and_the_ceiling():
    draws = iter([0.5, 0.25, 0.999])
    state = RetryState(0.0, 1000, jitter=lambda: next(draws))
    assert [state.decide(0.0, status=503).delay for _attempt in range(3)] == [0.5, 0.5, 0.999 * 4]


def test_the_default_jitter_is_random_and_bounded():
    waits = [RetryState(0.0, 1000).decide(0.0, status=429).delay for _attempt in range(200)]
    assert all(0.0 <= wait <= _retry.THROTTLED_BACKOFF_INITIAL for wait in waits)
    assert len(set(waits)) > 100  # not lockstep


def test_throttling_is_retried_until_the_budget_ends_not_a_number_of_times():
    state = ceilings(max_retry_time=100)
    waits = run_until_give_up(state, status=429)
    assert waits == [4.0, 8.0, 16.0, 32.0, 32.0]  # 92 s; 32 s more would end at 124 s
    decision = state.decide(92.0, status=429)
    assert decision.give_up_reason == ("the next wait would end after max_retry_time (100.0 s); "
                                       "raise max_retry_time to wait longer")
    assert len(run_until_give_up(ceilings(max_retry_time=1000), status=429)) == 33  # 28 s, then 30 x 32 s
    assert state.transient_retries == 0


def test_throttling_and_server_errors_keep_separate_counts():
    state = ceilings()
    assert [state.decide(0.0, status=s).delay for s in (429, 500, 429, 500)] == [4.0, 1.0, 8.0, 2.0]
    assert (state.throttled_retries, state.transient_retries) == (2, 2)


def test_transport_errors_are_transient():
    assert run_until_give_up(ceilings(), retryable_error=True) == [1.0, 2.0, 4.0, 8.0]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 418, 302, 100])
def test_request_errors_are_never_retried(status):
    decision = ceilings().decide(0.0, status=status)
    assert not decision.retry and decision.delay is None
    assert decision.give_up_reason == "this error is not retried"


def test_identity_404_is_retried_like_a_transient_error():
    assert run_until_give_up(ceilings(retry_not_found=True), status=404) == [1.0, 2.0, 4.0, 8.0]


def test_retry_after_replaces_the_computed_wait():
    state = ceilings()
    assert state.decide(0.0, status=429, retry_after=3.0).delay == 3.0
    assert state.decide(3.0, status=429).delay == 8.0  # second retry: back to the schedule
    assert state.decide(11.0, status=503, retry_after=0.0).delay == 0.0
    assert state.decide(11.0, status=503).delay == 2.0


def test_max_retry_time_bounds_the_total():
    waits = run_until_give_up(ceilings(max_retry_time=5), status=500)
    assert waits == [1.0, 2.0]  # a further 4 s wait would end at 7 s > 5 s
    decision = ceilings(max_retry_time=5).decide(0.0, status=429, retry_after=30.0)
    assert not decision.retry
    assert "max_retry_time" in decision.give_up_reason
    assert ceilings(max_retry_time=5).decide(0.0, status=429, retry_after=5.0).delay == 5.0  # ends at 5 s: allowed


def test_zero_max_retry_time_disables_retries():
    assert run_until_give_up(RetryState(0.0, max_retry_time=0), status=503) == []


@pytest.mark.parametrize("header, expected", [
    ("5", 5.0), (" 0 ", 0.0), ("007", 7.0), ("", None), (None, None), ("soon", None), ("-3", None),
    # Unicode digits pass str.isdigit() but are no number (issue 12: "could not convert string to float").
    ("\u00b2", None), ("1\u00b3", None), ("\u0663", None), ("5\n", 5.0), ("1.5", None), ("+5", None),
    # Huge values stay finite: clamped to a day, beyond any retry budget.
    ("9" * 5000, _retry.RETRY_AFTER_LIMIT), ("100000", _retry.RETRY_AFTER_LIMIT),
    ("Fri, 31 Dec 9999 23:59:59 GMT", _retry.RETRY_AFTER_LIMIT), ("Mon, 99 Foo 2024 99:99:99 GMT", None),
])
def test_parse_retry_after_seconds(header, expected):
    assert parse_retry_after(header) == expected


def test_parse_retry_after_http_date_uses_the_wall_clock_without_now(monkeypatch):
    now = 1_700_000_000.0
    monkeypatch.setattr(_retry.time, "time", lambda: now)
    assert parse_retry_after(email.utils.formatdate(now + 42, usegmt=True)) == pytest.approx(42.0)


def test_parse_retry_after_http_date():
    now = 1_700_000_000.0
    header = email.utils.formatdate(now + 42, usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(42.0)
    past = email.utils.formatdate(now - 42, usegmt=True)
    assert parse_retry_after(past, now=now) == 0.0


def test_leading_zeros_do_not_make_a_wait_long():
    assert parse_retry_after("0000000001") == 1.0
    assert parse_retry_after("000000000000") == 0.0


def test_a_zero_wait_fits_at_the_very_end_of_the_budget():
    decision = ceilings(max_retry_time=5).decide(4.5, status=429, retry_after=0.0)
    assert decision.retry and decision.delay == 0.0 and decision.give_up_reason == ""


def test_status_600_is_not_a_server_error():
    assert _retry.is_transient_status(599) and not _retry.is_transient_status(600)
    assert _retry.is_transient_status(408) and not _retry.is_transient_status(429)


def test_a_connection_that_cannot_be_made_gets_one_quick_retry():
    """Refused, no route, connect timeout: no IMDS state passes through them, so no backoff series."""
    waits = run_until_give_up(ceilings(), retryable_error=True, unreachable=True)
    assert waits == [_retry.UNREACHABLE_RETRY_DELAY] * _retry.UNREACHABLE_MAX_RETRIES == [0.5]
    state = ceilings()
    state.decide(0.0, retryable_error=True, unreachable=True)
    assert state.decide(0.5, retryable_error=True, unreachable=True).give_up_reason == (
        "no connection could be made; that is retried 1 time only")
    # A timeout after the connection stood is still transient: the backoff series as before.
    assert len(run_until_give_up(ceilings(), retryable_error=True)) == _retry.TRANSIENT_MAX_RETRIES


# -- a refused api-version: the policy decides the one repeat ------------------------------------

def test_a_refused_version_is_replaced_once_by_the_newest_offered_and_known():
    state = _retry.RetryState(0.0, 70.0)
    known = ("2021-02-01", "2023-07-01", "2025-04-07")
    assert state.replacement_version("2030-01-01", ["2021-02-01", "2023-07-01", "2099-01-01"], known) == "2023-07-01"
    assert state.replacement_version("2023-07-01", ["2025-04-07"], known) is None  # once per request


@pytest.mark.parametrize("version, offered", [
    ("2023-07-01", ["2023-07-01"]),          # the refused version itself: repeating it cannot help
    ("2030-01-01", ["2099-01-01", 7, None]),  # nothing offered that this collection knows
    ("2030-01-01", "2023-07-01"),            # not a list: untrusted shape, ignored
    ("2030-01-01", None),
])
def test_no_replacement_when_none_can_help(version, offered):
    state = _retry.RetryState(0.0, 70.0)
    assert state.replacement_version(version, offered, ("2023-07-01",)) is None
    assert not state.version_replaced
