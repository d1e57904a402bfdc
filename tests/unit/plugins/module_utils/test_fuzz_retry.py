"""Property tests: Retry-After is untrusted text, and the retry policy must stay sane whatever it says."""

from __future__ import annotations

import email.utils
import math

import pytest
from ansible_collections.imds.azure.plugins.module_utils import _retry
from ansible_collections.imds.azure.plugins.module_utils._retry import RetryState, parse_retry_after
from helpers.fuzz import value_or_typed_error
from hypothesis import given
from hypothesis import strategies as st

pytestmark = pytest.mark.fuzz

# Header values arrive decoded as ISO-8859-1, so every code point up to U+00FF can appear.
HEADER_TEXT = st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=60)
HTTP_DATES = st.floats(min_value=0, max_value=253402300799).map(lambda t: email.utils.formatdate(t, usegmt=True))
RETRY_AFTER = st.one_of(HEADER_TEXT, st.integers(min_value=0).map(str), HTTP_DATES,
                        st.text(max_size=30), st.sampled_from(["\u00b2", "1\u00b3", "9" * 50, "  12  "]))
NOW = st.one_of(st.none(), st.floats(min_value=0, max_value=4e9))


@given(value=RETRY_AFTER, now=NOW)
def test_retry_after_is_none_or_a_finite_wait(value, now):
    wait, error = value_or_typed_error(parse_retry_after, (), value, now=now)
    assert error is None
    assert wait is None or (math.isfinite(wait) and 0.0 <= wait <= _retry.RETRY_AFTER_LIMIT)


@given(seconds=st.integers(min_value=0, max_value=86400))
def test_retry_after_seconds_round_trip(seconds):
    assert parse_retry_after(str(seconds)) == float(seconds)


@given(statuses=st.lists(st.integers(min_value=100, max_value=599), min_size=1, max_size=40),
       hints=st.lists(st.one_of(st.none(), RETRY_AFTER), min_size=1, max_size=40),
       budget=st.floats(min_value=0, max_value=600))
def test_retries_never_outlast_the_budget(statuses, hints, budget):
    """Whatever IMDS answers and asks for, the waits a policy grants fit in max_retry_time."""
    state = RetryState(0.0, budget)
    now = 0.0
    for status, hint in zip(statuses, hints):
        decision = state.decide(now, status=status, retry_after=parse_retry_after(hint, now=0.0))
        if not decision.retry:
            assert decision.give_up_reason
            break
        assert decision.delay >= 0.0
        now += decision.delay
        assert now <= budget
