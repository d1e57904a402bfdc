"""Connection variables: which names a VM's data must not set, and what an opted-in value must be."""

from __future__ import annotations

import pytest
from ansible_collections.imds.azure.plugins.plugin_utils._connection_variables import (
    ConnectionValueError,
    checked_value,
    is_connection_variable,
    networks_of,
)


@pytest.mark.parametrize("name", ["ansible_host", "ansible_port", "ansible_user", "ansible_connection",
                                  "ansible_password", "ansible_become", "ansible_become_password",
                                  "ansible_ssh_common_args", "ansible_ssh_extra_args", "ansible_python_interpreter",
                                  "ansible_winrm_transport", "ansible_psrp_proxy", "ANSIBLE_HOST", "Ansible_Shell_Type",
                                  "inventory_hostname"])
def test_connection_variables_by_prefix(name):
    assert is_connection_variable(name)


@pytest.mark.parametrize("name", ["rack", "azure_zone", "host", "my_ansible_host", "inventory_hostname_short2"])
def test_other_variables(name):
    assert not is_connection_variable(name)


def test_ansible_host_must_be_one_address_inside_the_networks():
    networks = networks_of(["10.0.0.0/8", "fd00::/8"])
    assert checked_value("ansible_host", "10.1.2.3", networks) == "10.1.2.3"
    assert checked_value("ansible_host", "fd00::1", networks) == "fd00::1"
    assert checked_value("ansible_host", "127.0.0.1", []) == "127.0.0.1"
    for bad in ("-oProxyCommand=touch /tmp/x", "vm1.example.com", "10.1.2.3 -v", " 10.1.2.3", "10.1.2.3\n",
                "fe80::1%eth0", "", None, ["10.1.2.3"], 167772161):
        with pytest.raises(ConnectionValueError, match="not an IP address"):
            checked_value("ansible_host", bad, networks)
    with pytest.raises(ConnectionValueError, match="outside ansible_host_networks"):
        checked_value("ansible_host", "127.0.0.1", networks)


def test_ports_and_other_values():
    assert checked_value("ansible_port", "2222", []) == 2222 and checked_value("ansible_port", 22, []) == 22
    for bad in ("0", "65536", "22 ", "-1", True, "２２"):
        with pytest.raises(ConnectionValueError, match="port number"):
            checked_value("ansible_port", bad, [])
    assert checked_value("ansible_user", "azureuser", []) == "azureuser"
    with pytest.raises(ConnectionValueError, match="printable"):
        checked_value("ansible_user", "a\x1b[2Jb", [])
    with pytest.raises(ConnectionValueError, match="not text or a number"):
        checked_value("ansible_user", {"a": 1}, [])


def test_networks_are_checked():
    with pytest.raises(ValueError, match="'10.0.0.0/33' is not an IP network"):
        networks_of(["10.0.0.0/33"])
