"""Numbers that cross to a Windows host: what an Ansible.Basic Int32 option cannot hold is refused on the controller,
before the host receives it; the host module's double (which parses options as Ansible.Basic does) would refuse it
too, and says so when called directly."""

from __future__ import annotations

from helpers.ansible_runner import run_playbook
from doubles.windows_double import inventory_file, play


def test_a_timeout_no_windows_attempt_can_hold_is_refused_before_sending(tmp_path, windows_collections, pair):
    emulators = pair()
    inventory = inventory_file(tmp_path, {host: emulator.url for host, emulator in emulators.items()})
    run = run_playbook(tmp_path, play("imds.azure.metadata_facts", "timeout: 3000000"), inventory=inventory,
                       env={"ANSIBLE_COLLECTIONS_PATH": windows_collections}, args=["--forks", "2"])
    assert run.rc == 2, run.output
    assert run.task("gather", "lin1")["status"] == "ok"  # Python holds any such timeout
    failure = run.task("gather", "win1")["result"]
    assert "longer than a Windows host can wait in one attempt" in failure["msg"]
    assert emulators["win1"].requests == []


def test_the_host_refuses_an_int32_overflow_as_ansible_basic_does(tmp_path, windows_collections, make_emulator):
    emulator = make_emulator()
    inventory = inventory_file(tmp_path, {"win1": emulator.url})
    options = "address: 127.0.0.1\nport: 9\nrequest: R0VUIC8=\nconnect_timeout_ms: 3000000000\nread_timeout_ms: 1000\n" \
              "max_bytes: 100"
    run = run_playbook(tmp_path, play("imds.azure.win_imds_attempt", options), inventory=inventory,
                       env={"ANSIBLE_COLLECTIONS_PATH": windows_collections})
    assert run.rc == 2, run.output
    assert run.task("gather", "win1")["result"]["msg"] == (
        "argument for connect_timeout_ms is of type System.Int64 and we were unable to convert to int: "
        "Value was either too large or too small for an Int32.")
