# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""Which variables decide where and how Ansible connects, and the checks an opted-in value passes.

A VM reports its own facts, so a variable composed from them must never choose the address,
port, user, connection, become method or interpreter of the controller's next connection unless
the user opted in for that variable. The rule is a prefix, not a list of names: ansible-core and
every connection, become and shell plugin it ships read their variables as ``ansible_*``
(``ansible_host``, ``ansible_ssh_common_args``, ``ansible_become_password``,
``ansible_python_interpreter``, ``ansible_winrm_transport``...), and collections follow that
convention; a list of names would miss the next plugin's. ``inventory_hostname`` is the one
other name the connection plugins read (the address when ``ansible_host`` is unset).
"""

from __future__ import annotations

import ipaddress

CONNECTION_PREFIX = "ansible_"
OTHER_CONNECTION_VARIABLES = frozenset(("inventory_hostname",))
MAX_VALUE_LENGTH = 1024


class ConnectionValueError(ValueError):
    """An opted-in connection variable's value that the plugin does not set."""


def is_connection_variable(name: str) -> bool:
    """Whether ``name`` is one of the variables a VM must not set without the user's consent."""
    return name.casefold().startswith(CONNECTION_PREFIX) or name in OTHER_CONNECTION_VARIABLES


def networks_of(texts) -> list:
    """``ansible_host_networks`` as ip_network objects; ValueError naming the entry that is not a network."""
    networks = []
    for text in texts:
        try:
            networks.append(ipaddress.ip_network(str(text), strict=False))
        except ValueError as exc:
            raise ValueError("ansible_host_networks entry %r is not an IP network (%s)" % (text, exc)) from exc
    return networks


def checked_value(name: str, value, networks: list):
    """The value to set for opted-in ``name``, or ConnectionValueError saying why it is not set.

    ``ansible_host`` must be one IP address (inside ``networks`` when any are given): never a
    name, never an option such as ``-oProxyCommand=...``. ``ansible_port`` must be a port number.
    Any other opted-in variable must be a scalar; text is at most 1,024 printable characters.
    """
    if name == "ansible_host":
        return _checked_address(value, networks)
    if name == "ansible_port":
        return _checked_port(value)
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        return value
    if not isinstance(value, str):
        raise ConnectionValueError("the value is a %s, not text or a number" % type(value).__name__)
    text = str.__str__(value)
    if len(text) > MAX_VALUE_LENGTH or not text.isprintable():
        raise ConnectionValueError("the value is not at most %d printable characters" % MAX_VALUE_LENGTH)
    return value


def _checked_address(value, networks: list) -> str:
    text = str.__str__(value) if isinstance(value, str) else None
    try:
        # A scope ("fe80::1%eth0") would carry free text: refused with the rest.
        address = ipaddress.ip_address(text) if text is not None and "%" not in text else None
    except ValueError:
        address = None
    if address is None:
        raise ConnectionValueError("the value is not an IP address")
    if networks and not any(address in network for network in networks):
        raise ConnectionValueError("the address %s is outside ansible_host_networks (%s)"
                                   % (address, ", ".join(str(n) for n in networks)))
    return str(address)


def _checked_port(value) -> int:
    text = str.__str__(value) if isinstance(value, str) else value
    if isinstance(text, str) and text.isdigit() and text.isascii():
        text = int(text)
    if isinstance(text, bool) or not isinstance(text, int) or not 0 < text < 65536:
        raise ConnectionValueError("the value is not a port number (1 to 65535)")
    return text
