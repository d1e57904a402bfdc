"""The ``azure-imds-emulator`` command.

    azure-imds-emulator serve --listen ADDR:PORT [--config FILE] [--control ADDR:PORT]
    azure-imds-emulator event --control URL --type Preempt [--after SECONDS] [--vm NAME] ...
    azure-imds-emulator fault --control URL --kind status --status 503 [--duration SECONDS] ...
    azure-imds-emulator requests --control URL [--vm NAME]
    azure-imds-emulator reset --control URL [--vm NAME]

The client commands print the control API's JSON answer; --control defaults to
$AZURE_IMDS_EMULATOR_CONTROL (the "control" URL that serve printed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from urllib.parse import quote, urlsplit

from . import serve
from .events import EVENT_SOURCES, EVENT_TYPES, REQUEST_KEYS as EVENT_KEYS
from .faults import KINDS, REQUEST_ALIASES, REQUEST_KEYS as FAULT_KEYS

CONTROL_ENV = "AZURE_IMDS_EMULATOR_CONTROL"
TIMEOUT = 10


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="azure-imds-emulator", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    serve.add_arguments(commands.add_parser("serve", help="serve IMDS (and the control API)"))

    event = _client(commands, "event", "schedule a scheduled event (POST /events)")
    event.add_argument("--type", dest="EventType", required=True, choices=EVENT_TYPES)
    event.add_argument("--after", dest="after_seconds", type=float, help="seconds until it appears (default 0)")
    event.add_argument("--not-before", dest="NotBefore",
                       help="RFC 1123 date; default: the type's minimum notice after it appears")
    event.add_argument("--resource", dest="Resources", action="append", help="a VM it concerns (repeatable)")
    event.add_argument("--duration", dest="DurationInSeconds", type=int, help="DurationInSeconds (-1: unknown)")
    event.add_argument("--source", dest="EventSource", choices=EVENT_SOURCES)
    event.add_argument("--description", dest="Description")
    event.add_argument("--event-id", dest="EventId")

    fault = _client(commands, "fault", "make IMDS misbehave (POST /faults)")
    fault.add_argument("--kind", choices=KINDS + tuple(REQUEST_ALIASES))
    fault.add_argument("--status", type=int)
    fault.add_argument("--path", help="only requests whose path starts with this (default /metadata)")
    fault.add_argument("--count", type=int, help="for this many requests")
    fault.add_argument("--duration", type=float, help="for this many seconds from its first hit")
    fault.add_argument("--retry-after", dest="retry_after")
    fault.add_argument("--interval", type=float, help="drip: seconds between bytes")

    _client(commands, "requests", "what IMDS received (GET /requests)")
    _client(commands, "reset", "back to the configured state (POST /reset)")
    return parser


def _client(commands, name: str, text: str) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=text)
    parser.add_argument("--control", default=os.environ.get(CONTROL_ENV),
                        help="the control URL serve printed (default $%s)" % CONTROL_ENV)
    parser.add_argument("--vm", help="the VM (its vm.name) in a fleet")
    return parser


def call(control: str, method: str, path: str, body: dict | None = None) -> dict:
    """One control API call; raises RuntimeError with the API's error message."""
    if urlsplit(control).scheme not in ("http", "https"):
        raise RuntimeError("--control takes the http:// URL that serve printed, got %r" % control)
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(control.rstrip("/") + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    # The control listener is local or chosen by the user: never through a proxy from the environment.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=TIMEOUT) as answer:
            return json.loads(answer.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read().decode("utf-8"))["error"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            message = "HTTP %d" % exc.code
        raise RuntimeError(message) from None
    except (urllib.error.URLError, OSError) as exc:
        raise RuntimeError("cannot reach the control API at %s: %s" % (control, exc)) from None


def _fields(args, names: tuple) -> dict:
    body = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    if args.vm:
        body["vm"] = args.vm
    return body


def run_client(args) -> int:
    if not args.control:
        print("azure-imds-emulator %s: give --control URL or set %s" % (args.command, CONTROL_ENV), file=sys.stderr)
        return 2
    if args.command == "event":
        method, path = "POST", "/events"
        body = _fields(args, EVENT_KEYS)
    elif args.command == "fault":
        method, path = "POST", "/faults"
        body = _fields(args, tuple(key for key in FAULT_KEYS if key != "body"))  # no --body flag: JSON bodies via the API
    elif args.command == "requests":
        method, path, body = "GET", "/requests" + ("?vm=%s" % quote(args.vm) if args.vm else ""), None
    else:
        method, path, body = "POST", "/reset", _fields(args, ())
    try:
        answer = call(args.control, method, path, body)
    except RuntimeError as exc:
        print("azure-imds-emulator %s: %s" % (args.command, exc), file=sys.stderr)
        return 1
    print(json.dumps(answer, indent=2))
    return 0


def main(argv: list | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve.run(args)
    return run_client(args)
