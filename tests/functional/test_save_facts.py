"""imds.azure.save_facts, the replacement for `ansible ... --tree` as a file source of the inventory
plugin: one JSON file per host on the controller, read back through the plugin's `paths` option."""

from __future__ import annotations

import json
import stat

from helpers.ansible_runner import run_command
from helpers.fleet import profile
from helpers.inventory import inventory_list, members, write_config

HOSTILE = "{{ lookup('pipe', 'touch %s') }}"


def failure_messages(output: str) -> str:
    """The ``msg`` of each failed task, as text: ansible-core 2.16-2.18 print the result as JSON
    (``\\"`` for a quote), 2.19 and later print ``msg`` as it is."""
    messages = [output]
    for line in output.splitlines():
        if "FAILED! => {" in line:
            try:
                messages.append(json.loads(line.split("FAILED! => ", 1)[1]).get("msg", ""))
            except ValueError:  # a result spread over several lines is printed as it is
                pass
    return "\n".join(messages)


def save_facts(tmp_path, hosts_ini: str, extra_vars: list) -> tuple:
    hosts = tmp_path / "hosts.ini"
    hosts.write_text(hosts_ini)
    args = ["ansible-playbook", "-i", str(hosts), "imds.azure.save_facts"]
    for extra in extra_vars:
        args += ["-e", extra]
    completed = run_command(tmp_path / "play", args)
    return completed, failure_messages(completed.stdout + completed.stderr)


def test_one_file_per_host_read_by_the_inventory_plugin(tmp_path, make_emulator):
    touched = tmp_path / "templated"
    emulators = {
        "web1.example.com": make_emulator(profile=profile("web1", "1", "0", "3", tags={"Role": "web"})),
        "db-2": make_emulator(profile=profile("db2", "2", "1", "4", tags={"Role": "db", "Note": HOSTILE % touched})),
    }
    facts_dir = tmp_path / "imds-facts"
    completed, output = save_facts(
        tmp_path, "".join("%s ansible_connection=local imds_endpoint=%s\n" % (h, e.url) for h, e in emulators.items()),
        ["imds_facts_dir=%s" % facts_dir])
    assert completed.returncode == 0, output
    assert sorted(p.name for p in facts_dir.iterdir()) == ["db-2.json", "web1.example.com.json"]
    assert stat.S_IMODE(facts_dir.stat().st_mode) == 0o700
    saved = json.loads((facts_dir / "db-2.json").read_text())
    assert stat.S_IMODE((facts_dir / "db-2.json").stat().st_mode) == 0o600
    # The same layout as --tree wrote; IMDS text kept as text, never templated.
    assert saved["ansible_facts"]["azure_imds"]["compute"]["name"] == "db2"
    assert saved["ansible_facts"]["azure_imds"]["tags"]["Note"] == HOSTILE % touched
    assert not touched.exists()

    config = write_config(tmp_path / "inv", "plugin: imds.azure.imds\nuse_fact_cache: false\npaths: [%s]\n" % facts_dir)
    listing, stderr = inventory_list(tmp_path, [config], {})
    assert "WARNING" not in stderr, stderr
    assert members(listing, "azure_zone_1") == {"web1.example.com"}
    assert members(listing, "azure_zone_2") == {"db-2"}
    assert members(listing, "azure_fault_domain_1") == {"db-2"}
    assert not touched.exists()


def test_a_host_whose_gathering_fails_gets_no_file(tmp_path, make_emulator):
    good = make_emulator(profile=profile("good", "1", "0", "0"))
    broken = make_emulator()
    broken.add_fault("status=404,duration=3600")
    facts_dir = tmp_path / "imds-facts"
    completed, output = save_facts(
        tmp_path, "good ansible_connection=local imds_endpoint=%s\nbroken ansible_connection=local imds_endpoint=%s\n"
        % (good.url, broken.url), ["imds_facts_dir=%s" % facts_dir, "imds_max_retry_time=0"])
    assert completed.returncode == 2, output
    assert sorted(p.name for p in facts_dir.iterdir()) == ["good.json"]


def test_without_a_directory_nothing_is_gathered(tmp_path, emulator):
    for extra in ([], ["imds_facts_dir=relative/dir"]):
        completed, output = save_facts(tmp_path, "vm ansible_connection=local imds_endpoint=%s\n" % emulator.url,
                                       extra)
        assert completed.returncode == 2, output
        assert "imds.azure.save_facts needs imds_facts_dir, an absolute directory" in output
    assert not emulator.requests


def test_a_missing_directory_is_not_blamed_on_the_host_name(tmp_path, emulator):
    completed, output = save_facts(tmp_path, "vm1 ansible_connection=local imds_endpoint=%s\n" % emulator.url, [])
    assert completed.returncode == 2, output
    assert "needs imds_facts_dir, an absolute directory on the controller" in output and 'got "nothing"' in output
    assert "cannot name" not in output and "vm1 is not" not in output


def test_a_host_name_with_a_trailing_newline_is_refused(tmp_path, emulator):
    """``match('^...$')`` let "vm1\\n" through ("$" matches before a final newline); the check is a full match."""
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(json.dumps({"all": {"hosts": {"vm1\n": {"ansible_connection": "local",
                                                                 "imds_endpoint": emulator.url}}}}))
    facts_dir = tmp_path / "imds-facts"
    completed = run_command(tmp_path / "play", ["ansible-playbook", "-i", str(inventory), "imds.azure.save_facts",
                                                "-e", "imds_facts_dir=%s" % facts_dir])
    output = failure_messages(completed.stdout + completed.stderr)
    assert completed.returncode == 2, output
    assert 'The host name "vm1\\n" cannot name the file' in output
    assert not facts_dir.exists() and not emulator.requests
