"""Run the IMDS emulator: ``python3 tests/emulator/serve.py --bind HOST:PORT [--profile FILE]``.

Prints one JSON line ``{"url": ..., "pid": ...}`` on stdout once it listens, then serves
until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from .faults import Fault  # noqa: E402  pylint: disable=wrong-import-position
from .server import ImdsEmulator  # noqa: E402  pylint: disable=wrong-import-position


def parse_bind(value: str) -> tuple:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError("--bind takes HOST:PORT, for example 127.0.0.1:8080 or 169.254.169.254:80")
    return host.strip("[]"), int(port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bind", type=parse_bind, default=("127.0.0.1", 0), help="HOST:PORT (port 0: any free port)")
    parser.add_argument("--profile", help="an /metadata/instance JSON document (default: the seeds' example VM)")
    parser.add_argument("--fault", action="append", default=[], type=Fault.parse,
                        help="script a fault, e.g. status=410,duration=30 or kind=hang,path=/metadata/instance")
    parser.add_argument("--no-rate-limit", action="store_true", help="never answer 429 on its own")
    parser.add_argument("--rate-limit-model", choices=["arrivals", "served"], default="arrivals",
                        help="arrivals: refused requests count against the 5/s limit too; served: only answered ones")
    parser.add_argument("--max-version", help="pretend to be an older IMDS that knows versions up to this one")
    parser.add_argument("--no-identity", action="store_true", help="no managed identity is assigned")
    parser.add_argument("--scheduled-events", type=Path,
                        help="a scheduled events document in IMDS's newest shape (api-version 2020-07-01: "
                             "DocumentIncarnation, Events with every field); older api-versions get their own "
                             "fields, approval starts events and started events finish after DurationInSeconds")
    parser.add_argument("--identities", type=Path,
                        help='JSON {"systemAssigned": {"client_id", "object_id"} or null, "userAssigned": '
                             '[{"client_id", "object_id", "msi_res_id"}, ...]}: the identities the VM has')
    parser.add_argument("--write-root", help="write the attestation root CA certificate (PEM) to this file")
    parser.add_argument("--request-log", help="append one JSON line per request to this file")
    return parser


def main(argv: list | None = None) -> int:
    args = build_parser().parse_args(argv)
    host, port = args.bind
    kwargs = {}
    if args.scheduled_events:
        kwargs["scheduled_events"] = json.loads(args.scheduled_events.read_text(encoding="utf-8"))
    if args.identities:
        kwargs["identities"] = json.loads(args.identities.read_text(encoding="utf-8"))
    if args.max_version:
        kwargs["supported_versions"] = tuple(v for v in ImdsEmulator.default_versions() if v <= args.max_version)
    emulator = ImdsEmulator(profile=args.profile, host=host, port=port,
                            rate_limit=None if args.no_rate_limit else 5, rate_limit_model=args.rate_limit_model,
                            identity=not args.no_identity,
                            request_log=args.request_log, **kwargs)
    for fault in args.fault:
        emulator.add_fault(fault)
    if args.write_root:
        emulator.pki.write_root(args.write_root)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    emulator.start()
    print(json.dumps({"url": emulator.url, "pid": os.getpid()}), flush=True)
    try:
        stop.wait()
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
