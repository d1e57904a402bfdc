"""Shared Hypothesis set-up for every property ("fuzz") test of the collection.

Profiles (registered once, here; tests/conftest.py imports this module):
- ``bounded``, the default: a bounded, derandomized example count, so ``make pytest`` and
  ``make test`` stay fast and give the same verdict on every run;
- ``fuzz``: many random examples, with failures kept in ``.cache/hypothesis`` and replayed first
  (``make fuzz``, or ``pytest --hypothesis-profile=fuzz -m fuzz``);
- ``mutation``: a handful of examples, for ``make mutation``, which runs the tests once per mutant.

The property every untrusted-text parser must have: it returns a value or raises one of the
collection's own typed errors, never another exception, and never hangs. ``value_or_typed_error``
checks exactly that. tests/conftest.py marks every Hypothesis test ``fuzz``, so ``make fuzz``
(``-m fuzz``) selects them all.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

BOUNDED_EXAMPLES = 150
# make fuzz sets IMDS_AZURE_FUZZ_EXAMPLES (tests with their own settings read it too).
FUZZ_EXAMPLES = int(os.environ.get("IMDS_AZURE_FUZZ_EXAMPLES", "20000"))
MUTATION_EXAMPLES = 12
# One example is pure parsing (or one loopback exchange); this is orders of magnitude more.
HANG_LIMIT_SECONDS = 10.0

_DATABASE = Path(__file__).resolve().parents[2] / ".cache" / "hypothesis"
_QUIET_CHECKS = [HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile("bounded", max_examples=BOUNDED_EXAMPLES, deadline=None, derandomize=True,
                          database=None, suppress_health_check=_QUIET_CHECKS, print_blob=True)
settings.register_profile("fuzz", max_examples=FUZZ_EXAMPLES, deadline=None,
                          database=DirectoryBasedExampleDatabase(str(_DATABASE)),
                          suppress_health_check=_QUIET_CHECKS, print_blob=True)
# make mutation runs the unit tests once per mutant: a few examples each keep that affordable.
settings.register_profile("mutation", max_examples=MUTATION_EXAMPLES, deadline=None, derandomize=True,
                          database=None, suppress_health_check=_QUIET_CHECKS)
settings.load_profile("bounded")


class Hang(BaseException):
    """Raised inside a call that ran past HANG_LIMIT_SECONDS (BaseException: no parser may catch it)."""


@contextlib.contextmanager
def no_hang(seconds: float = HANG_LIMIT_SECONDS):
    """Fail with ``Hang`` if the block runs longer than ``seconds`` (main thread only, POSIX timers)."""

    def expire(_signum, _frame):
        raise Hang("still running after %.1f s: a hang" % seconds)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def value_or_typed_error(call, typed_errors, *args, **kwargs):
    """Run ``call``: return ``(value, None)`` or ``(None, error)`` for one of ``typed_errors``.

    Any other exception (and a hang) propagates, which is the test failure Hypothesis then shrinks.
    """
    with no_hang():
        try:
            return call(*args, **kwargs), None
        except typed_errors as error:
            assert str(error).strip(), "a typed error must carry a message for the user"
            return None, error
