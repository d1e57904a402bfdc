# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this module_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""When to retry an IMDS request, and how long to wait first.

The numbers follow Microsoft's own IMDS clients (MSAL, azure-identity) and the
IMDS documentation: 410 means "try again for up to 70 seconds"; 408, 5xx,
resets and timeouts get a few retries with exponential waits; the 4xx errors
that describe a wrong request are never retried.

A connection that cannot be made at all (refused, no route, connect timeout) is
not a state IMDS passes through: on an Azure VM it is served by the host the VM
runs on, and none of Microsoft's retry guidance covers it (azure-identity probes
IMDS once, with a short timeout and no retry, before it relies on it). It gets one
quick retry, for a network stack still coming up; more would only delay the hosts
that have no IMDS, such as the non-Azure machines of a mixed fleet.

429 is different: it says other callers share this VM's 5 requests a second
(50 forks delegating to one Azure controller, say). It is retried for as long as
``max_retry_time`` lasts, not a fixed number of times. Every computed wait is
drawn at random between 0 and the exponential ceiling ("full jitter"), so callers
refused together do not all come back together; a ``Retry-After`` header still
wins over the computed wait.

A 400 that lists ``newest-versions`` is answered once with the newest of them that this
collection knows (``RetryState.replacement_version``): the same request, at a version
this VM's IMDS offers.
"""

from typing import Optional

import random
import re
import time

from ansible_collections.imds.azure.plugins.module_utils._api_versions import newest_known

GONE_STATUS = 410
GONE_RETRY_INTERVAL = 10.0
GONE_RETRY_WINDOW = 70.0

TRANSIENT_STATUSES = frozenset({408})
TRANSIENT_MAX_RETRIES = 4
BACKOFF_INITIAL = 1.0
BACKOFF_FACTOR = 2.0
# Ceiling of every computed wait. 50 callers waiting up to 32 s each arrive at about 3 a second,
# under IMDS's 5 (tests/functional/test_contention.py measures both limiter models).
BACKOFF_CAP = 32.0

UNREACHABLE_MAX_RETRIES = 1
UNREACHABLE_RETRY_DELAY = 0.5

THROTTLED_STATUS = 429
# The first 429 ceiling: a refused caller has at least 5 others beside it.
THROTTLED_BACKOFF_INITIAL = 4.0

# A Retry-After beyond this is beyond every retry budget; clamping keeps huge numbers finite.
RETRY_AFTER_LIMIT = 86400.0
_DELAY_SECONDS_RE = re.compile(r"[0-9]+")


def is_transient_status(status: int) -> bool:
    """408 and 5xx: worth a few retries (429 has a policy of its own)."""
    return status in TRANSIENT_STATUSES or 500 <= status <= 599


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Return the wait a Retry-After header asks for, in seconds, or None if absent or unreadable.

    The header is either a number of seconds or an HTTP date; ``now`` is wall-clock
    time (only used for the date form).
    """
    if not value:
        return None
    value = value.strip()
    if _DELAY_SECONDS_RE.fullmatch(value):
        # ASCII digits only: str.isdigit() also accepts "²", which float() then refuses.
        digits = value.lstrip("0") or "0"
        return RETRY_AFTER_LIMIT if len(digits) > 9 else min(float(digits), RETRY_AFTER_LIMIT)
    # Imported here, not at the top: the email package costs every module run a few
    # milliseconds, and IMDS sends Retry-After in seconds, when at all.
    import email.utils  # pylint: disable=import-outside-toplevel
    try:
        when = email.utils.parsedate_to_datetime(value)
        if when is None:
            return None
        current = time.time() if now is None else now
        return min(max(0.0, when.timestamp() - current), RETRY_AFTER_LIMIT)
    except (TypeError, ValueError, IndexError, OverflowError, OSError):
        # Unreadable (or an impossible date): the header is only a hint, the backoff applies.
        return None


class RetryDecision:
    """The outcome of one retry decision: wait ``delay`` seconds, or give up and say why."""

    __slots__ = ("delay", "give_up_reason")

    def __init__(self, delay: Optional[float], give_up_reason: str = "") -> None:
        self.delay = delay
        self.give_up_reason = give_up_reason

    @property
    def retry(self) -> bool:
        return self.delay is not None


class RetryState:
    """Retry bookkeeping for one logical IMDS call (all attempts of one request)."""

    def __init__(self, started_at: float, max_retry_time: float, retry_not_found: bool = False,
                 jitter=random.random) -> None:
        self.started_at = started_at
        self.max_retry_time = max(0.0, max_retry_time)
        # IMDS documents 404 from the identity category as transient during VM start-up.
        self.retry_not_found = retry_not_found
        # Returns a number in [0, 1); tests pass a constant to get the ceilings themselves.
        self._jitter = jitter
        self.transient_retries = 0
        self.throttled_retries = 0
        self.unreachable_retries = 0
        self.version_replaced = False

    def replacement_version(self, version: Optional[str], offered, known: tuple) -> Optional[str]:
        """After a 400: the api-version to repeat the request with, or None to give up.

        ``offered`` is the untrusted ``newest-versions`` of the error body. The request is repeated
        once, with the newest offered version that is also in ``known``, if that differs from ``version``.
        """
        if self.version_replaced or not isinstance(offered, list):
            return None
        replacement = newest_known(offered, known)
        if not replacement or replacement == version:
            return None
        self.version_replaced = True
        return replacement

    def decide(self, now: float, status: Optional[int] = None, retryable_error: bool = False,
               retry_after: Optional[float] = None, unreachable: bool = False) -> RetryDecision:
        """Decide about a failed attempt: an HTTP ``status``, or a transport error when ``retryable_error``
        (``unreachable`` when no connection could be made at all)."""
        if status == GONE_STATUS:
            decision = self._gone(now, retry_after)
        elif unreachable:
            decision = self._unreachable()
        elif status == THROTTLED_STATUS:
            decision = self._throttled(retry_after)
        elif (status is not None and is_transient_status(status)) or retryable_error or (
                status == 404 and self.retry_not_found):
            decision = self._transient(retry_after)
        else:
            return RetryDecision(None, "this error is not retried")
        if decision.retry:
            return self._within_budget(now, decision)
        return decision

    def _gone(self, now: float, retry_after: Optional[float]) -> RetryDecision:
        delay = GONE_RETRY_INTERVAL if retry_after is None else retry_after
        if now + delay - self.started_at > GONE_RETRY_WINDOW:
            return RetryDecision(None, "IMDS kept answering 410 Gone for the whole %d s retry window" % GONE_RETRY_WINDOW)
        return RetryDecision(delay)

    def _transient(self, retry_after: Optional[float]) -> RetryDecision:
        if self.transient_retries >= TRANSIENT_MAX_RETRIES:
            return RetryDecision(None, "%d retries were used up" % TRANSIENT_MAX_RETRIES)
        delay = self._backoff(BACKOFF_INITIAL, self.transient_retries) if retry_after is None else retry_after
        self.transient_retries += 1
        return RetryDecision(delay)

    def _unreachable(self) -> RetryDecision:
        if self.unreachable_retries >= UNREACHABLE_MAX_RETRIES:
            return RetryDecision(None, "no connection could be made; that is retried %d time only"
                                 % UNREACHABLE_MAX_RETRIES)
        self.unreachable_retries += 1
        return RetryDecision(UNREACHABLE_RETRY_DELAY)

    def _throttled(self, retry_after: Optional[float]) -> RetryDecision:
        """429: no retry count, only the max_retry_time budget (checked by the caller) ends it."""
        delay = self._backoff(THROTTLED_BACKOFF_INITIAL, self.throttled_retries) if retry_after is None else retry_after
        self.throttled_retries += 1
        return RetryDecision(delay)

    def _backoff(self, initial: float, retries: int) -> float:
        """Full jitter: a random wait between 0 and the capped exponential ceiling."""
        ceiling = min(BACKOFF_CAP, initial * BACKOFF_FACTOR ** min(retries, 32))
        return ceiling * self._jitter()

    def _within_budget(self, now: float, decision: RetryDecision) -> RetryDecision:
        delay = decision.delay or 0.0
        if now + delay - self.started_at > self.max_retry_time:
            # The wait is random (jitter): the message leaves it out, so the same failure reads the same.
            return RetryDecision(
                None,
                "the next wait would end after max_retry_time (%.1f s); raise max_retry_time to wait longer"
                % self.max_retry_time)
        return decision
