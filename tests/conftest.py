"""Test-suite wiring: import paths, the network-safety guard, and shared fixtures."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
# The emulator is its own package (emulator/, installed by tools/setup.sh); its source on the path too,
# so that ansible-test units, whose virtualenvs do not install it, import this checkout's emulator.
sys.path[:0] = [str(TESTS), str(TESTS / "netguard"), str(TESTS.parent / "emulator" / "src")]

# pylint: disable=wrong-import-position
import imds_netguard  # noqa: E402

from doubles import windows_double  # noqa: E402
from helpers import collection_root, netns, paths  # noqa: E402

# Unit tests import the collection as ansible_collections.imds.azure: from where ansible-test put it,
# from the set-up's .cache/collections, or from a link made for this run (nothing else needed).
sys.path.insert(0, str(collection_root.importable_root()))

from azure_imds_emulator.faults import Fault  # noqa: E402
from azure_imds_emulator.server import ImdsEmulator  # noqa: E402

try:
    import hypothesis  # noqa: F401  pylint: disable=unused-import
except ImportError:  # a venv from before requirements/test.txt gained it: run tools/setup.sh
    pass
else:
    # Importing registers the shared Hypothesis profiles (bounded by default, fuzz for make fuzz).
    from helpers import fuzz  # noqa: E402,F401  pylint: disable=unused-import

# The guard covers this process now and, through PYTHONPATH (helpers.ansible_runner), every
# Python subprocess; violations land in one log that the autouse fixture below reads.
NETGUARD_LOG = Path(os.environ.setdefault(
    imds_netguard.LOG_ENV, str(TESTS.parent / ".cache" / ("netguard-%d.log" % os.getpid())))).resolve()
os.environ.setdefault(imds_netguard.ROOT_NETNS_ENV, imds_netguard.netns_id())
imds_netguard.install()


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "expect_netguard_violation: the test provokes the network guard on purpose")
    config.addinivalue_line("markers", "fuzz: a property test over untrusted input (make fuzz runs these long)")
    NETGUARD_LOG.parent.mkdir(parents=True, exist_ok=True)
    NETGUARD_LOG.write_text("")
    if netns.available() is None:
        netns.remove_stale()


class _SharedDataAwareModule(pytest.Module):
    """A test module that reads ../shared at import: skipped (or failed) with a message naming it."""

    def _getobj(self):
        try:
            return super()._getobj()
        except FileNotFoundError as error:
            if error.filename and paths.is_shared(error.filename):
                paths.missing_shared(error.filename)
            raise


def pytest_pycollect_makemodule(module_path, parent):
    return _SharedDataAwareModule.from_parent(parent, path=module_path)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):  # pylint: disable=unused-argument
    """A test that reads ../shared while running: skipped (or failed) with a message naming it."""
    try:
        return (yield)
    except FileNotFoundError as error:
        if error.filename and paths.is_shared(error.filename):
            paths.missing_shared(error.filename)
        raise


def pytest_collection_modifyitems(items) -> None:
    """Every Hypothesis test is a fuzz test: `make fuzz` (-m fuzz) runs them all, long."""
    for item in items:
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.fuzz)


@pytest.fixture(autouse=True)
def network_guard(request):
    """Fail any test that tried to reach 169.254.0.0/16, 168.63.129.16 or a non-loopback address."""
    start = NETGUARD_LOG.stat().st_size
    yield
    with open(NETGUARD_LOG, encoding="utf-8") as handle:
        handle.seek(start)
        violations = [json.loads(line) for line in handle if line.strip()]
    if request.node.get_closest_marker("expect_netguard_violation"):
        if not violations:
            pytest.fail("the network guard should have stopped a connection in this test, and did not")
        return
    if violations:
        pytest.fail("network guard: this test tried to connect where tests must never go:\n%s"
                    % "\n".join(json.dumps(v) for v in violations))


@pytest.fixture
def emulator():
    """An IMDS emulator on 127.0.0.1 (any free port), stopped after the test."""
    with ImdsEmulator() as running:
        yield running


@pytest.fixture
def make_emulator():
    """Factory for extra emulators (profiles, options); all are stopped after the test."""
    started = []

    def factory(**kwargs) -> ImdsEmulator:
        running = ImdsEmulator(**kwargs).start()
        started.append(running)
        return running

    yield factory
    for running in started:
        running.stop()


@pytest.fixture
def serve_emulator(tmp_path):
    """Factory for ``azure-imds-emulator serve`` processes (helpers.served_emulator); stopped by PID after the test."""
    from helpers.served_emulator import ServedEmulator  # pylint: disable=import-outside-toplevel
    started = []

    def factory(config: dict | None = None, args: list | None = None) -> ServedEmulator:
        workdir = tmp_path / ("served-%d" % len(started))
        workdir.mkdir()
        running = ServedEmulator(workdir, config, args)
        started.append(running)
        return running

    yield factory
    for running in started:
        running.stop()


@pytest.fixture(scope="session")
def windows_collections(tmp_path_factory) -> str:
    """ANSIBLE_COLLECTIONS_PATH for tests with a "Windows" host (see doubles/windows_double.py)."""
    return windows_double.collections_path(tmp_path_factory.mktemp("windows-double"))


@pytest.fixture
def pair(make_emulator):
    """Two emulators built alike: one for lin1, one for win1."""

    def build(*faults, **options) -> dict:
        emulators = {host: make_emulator(**options) for host in windows_double.HOSTS}
        for emulator in emulators.values():
            for fault in faults:
                emulator.add_fault(Fault.parse(fault) if isinstance(fault, str) else Fault(**fault))
        return emulators

    return build


@pytest.fixture
def make_netns():
    """Factory for network namespaces; each is deleted (and its processes stopped) after the test."""
    reason = netns.available()
    if reason:
        pytest.skip(reason)
    created = []

    def factory(tag: str) -> netns.NetNs:
        namespace = netns.NetNs(tag)
        created.append(namespace)
        return namespace

    yield factory
    for namespace in reversed(created):
        namespace.delete()


class VirtualClock:
    """Shared by a client and an emulator: sleeping advances time instantly, so a 70 s policy runs in ms."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock():
    return VirtualClock()
