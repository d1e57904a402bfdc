"""``azure-imds-emulator serve``: IMDS on --listen, the control API on --control, until SIGTERM or SIGINT.

Prints one JSON line ``{"url": ..., "control": ..., "pid": ...}`` on stdout once both listen.
The flags before --config (--profile, --fault, --no-rate-limit, ...) still work and apply to every VM.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading

from . import config
from .control import ControlServer
from .faults import Fault
from .fleet import Fleet
from .instance import load_profile


def parse_address(value: str) -> tuple:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise argparse.ArgumentTypeError("takes ADDR:PORT, for example 127.0.0.1:8080, 169.254.169.254:80 "
                                         "or [::1]:0 (port 0: any free port)")
    return host.strip("[]"), int(port)


def parse_fault(value: str) -> str:
    try:
        Fault.parse(value)
    except (ValueError, TypeError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--listen", "--bind", dest="listen", type=parse_address, default=("127.0.0.1", 0),
                        metavar="ADDR:PORT", help="where IMDS answers (default 127.0.0.1:0, any free port)")
    parser.add_argument("--control", type=parse_address, metavar="ADDR:PORT",
                        help="where the control API answers (default: 127.0.0.1, any free port)")
    parser.add_argument("--config", help="JSON or YAML (.yml/.yaml, needs the [yaml] extra) that overrides the "
                                         "default VM or describes a fleet; see the README")
    parser.add_argument("--profile", help="a whole /metadata/instance JSON document to start from "
                                          "(default: the seeds' example VM)")
    parser.add_argument("--fault", action="append", default=[], type=parse_fault,
                        help="script a fault, e.g. status=410,duration=30 or kind=hang,path=/metadata/instance")
    parser.add_argument("--no-rate-limit", action="store_true", help="never answer 429 on its own")
    parser.add_argument("--rate-limit-model", choices=["arrivals", "served"],
                        help="arrivals: refused requests count against the 5/s limit too; served: only answered ones")
    parser.add_argument("--max-version", help="pretend to be an older IMDS that knows api-versions up to this one")
    parser.add_argument("--no-identity", action="store_true", help="no managed identity is assigned")
    parser.add_argument("--scheduled-events",
                        help="a scheduled events document in IMDS's newest shape (api-version 2020-07-01)")
    parser.add_argument("--identities", help='JSON {"systemAssigned": {...} or null, "userAssigned": [...]}')
    parser.add_argument("--write-root", help="write the attestation root CA certificate (PEM) to this file")
    parser.add_argument("--request-log", help="append one JSON line per request to this file")


def _read_json(path: str, what: str):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as exc:
        raise config.ConfigError("%s %s: %s" % (what, path, exc)) from None


def settings_from(args) -> dict:
    """The configuration file, with the older flags folded in as top-level (every VM's) settings."""
    data = config.read_file(args.config) if args.config else {}
    if args.no_rate_limit or args.rate_limit_model:
        limit = data.get("rate_limit") or {}
        limit = dict(limit, per_second=None) if args.no_rate_limit else dict(limit)
        if args.rate_limit_model:
            limit["model"] = args.rate_limit_model
        data["rate_limit"] = limit
    if args.max_version:
        data["max_api_version"] = max((v for v in config.API_VERSIONS if v <= args.max_version), default=None)
        if data["max_api_version"] is None:
            raise config.ConfigError("--max-version %s: older than every api-version" % args.max_version)
    if args.no_identity:
        data["identities"] = {"systemAssigned": None}
    if args.identities:
        data["identities"] = _read_json(args.identities, "--identities")
    return data


def build_fleet(args) -> Fleet:
    data = settings_from(args)
    base = load_profile(args.profile) if args.profile else None
    events = _read_json(args.scheduled_events, "--scheduled-events") if args.scheduled_events else None
    host, port = args.listen
    fleet = Fleet(config.build(data, base), host, port, extra_faults=args.fault, events_document=events,
                  request_log=args.request_log)
    if args.write_root:
        fleet.pki.write_root(args.write_root)
    return fleet


def run(args) -> int:
    try:
        fleet = build_fleet(args)
    except (config.ConfigError, ValueError) as exc:
        print("azure-imds-emulator: %s" % exc, file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        fleet.start()
        control_host, control_port = args.control or ("127.0.0.1", 0)
        control = ControlServer(fleet, control_host, control_port).start()
    except OSError as exc:
        print("azure-imds-emulator: cannot listen: %s" % exc, file=sys.stderr)
        fleet.stop()
        return 1
    print(json.dumps({"url": fleet.url, "control": control.url, "pid": os.getpid(), "vms": fleet.names()}),
          flush=True)
    try:
        stop.wait()
    finally:
        control.stop()
        fleet.stop()
    return 0
