"""Many emulated VMs behind one IMDS listener, each chosen by the client's source address."""

from __future__ import annotations

import copy
import ipaddress

from .faults import Fault, fault_from_request
from .pki import EmulatorPki
from .server import ImdsEmulator, listen


class Fleet:
    """The VMs of a configuration (config.VmSettings), served together on ``host:port``.

    ``extra_faults`` (``Fault.parse`` specs) and ``events_document`` (a scheduled events document in
    IMDS's newest shape) come from serve's older flags and apply to every VM; ``reset()`` restores
    all of it, as configured, and forgets what was received.
    """

    def __init__(self, vms: list, host: str = "127.0.0.1", port: int = 0, extra_faults: list | None = None,
                 events_document: dict | None = None, request_log: str | None = None) -> None:
        self.host = host
        self.port = port
        self.extra_faults = list(extra_faults or [])
        self.events_document = events_document
        # One PKI for the fleet: one root certificate to trust, and RSA keys are made once.
        self.pki = EmulatorPki()
        self.members = []  # type: list[tuple]
        for settings in vms:
            emulator = ImdsEmulator(profile=copy.deepcopy(settings.profile), host=host, port=port,
                                    rate_limit=settings.rate_limit, rate_limit_model=settings.rate_limit_model,
                                    supported_versions=settings.versions, identities=settings.identities,
                                    request_log=request_log)
            emulator.pki = self.pki
            # Approved events finish after their DurationInSeconds, as the platform's maintenance would.
            emulator.events.auto_complete = True
            self.members.append((settings, emulator))
            self._configure(settings, emulator)
        self._server = None

    def _configure(self, settings, emulator: ImdsEmulator) -> None:
        if self.events_document is not None:
            emulator.events.load(self.events_document)
        for request in settings.events:
            emulator.events.request(request, settings.name)
        for spec in settings.faults:
            emulator.add_fault(fault_from_request(spec))
        for spec in self.extra_faults:
            emulator.add_fault(Fault.parse(spec))

    def start(self) -> "Fleet":
        self._server, _thread = listen(self.host, self.port, self.route)
        self.port = self._server.server_address[1]
        for _settings, emulator in self.members:
            emulator.port = self.port
        return self

    def stop(self) -> None:
        for _settings, emulator in self.members:
            emulator.stop()  # releases hung and dripping answers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        return self.members[0][1].url

    def route(self, client: str) -> ImdsEmulator | None:
        """The VM whose ``match`` holds the client's address, else the one without ``match``, else None."""
        try:
            address = ipaddress.ip_address(client.split("%", 1)[0])
        except ValueError:
            return None
        if getattr(address, "ipv4_mapped", None):
            address = address.ipv4_mapped
        fallback = None
        for settings, emulator in self.members:
            if not settings.match:
                fallback = emulator
            elif any(address.version == network.version and address in network for network in settings.match):
                return emulator
        return fallback

    def names(self) -> list:
        return [settings.name for settings, _emulator in self.members]

    def select(self, name: str | None) -> list:
        """The (settings, emulator) pairs ``name`` means: that VM, or every VM when None."""
        if name is None:
            return list(self.members)
        chosen = [member for member in self.members if member[0].name == name]
        if not chosen:
            raise KeyError("no VM is named %r; the fleet has %s" % (name, ", ".join(self.names())))
        return chosen

    def reset(self, name: str | None = None) -> None:
        """Back to the configured state: events, faults, requests and rate-limit windows."""
        for settings, emulator in self.select(name):
            emulator.faults.clear()
            emulator.events.clear()
            emulator.clear_requests()
            emulator.forget_arrivals()
            del emulator.identities.issued_tokens[:]
            self._configure(settings, emulator)
