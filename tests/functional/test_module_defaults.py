"""module_defaults for the action group imds.azure.imds, through ansible-playbook (meta/runtime.yml)."""

from __future__ import annotations

from helpers.ansible_runner import run_playbook

PLAY = """- hosts: all
  gather_facts: false
  module_defaults:
    group/imds.azure.imds:
      endpoint: %(endpoint)s
      api_version: '2021-02-01'
      timeout: 1
      max_retry_time: 0
  tasks:
    - name: facts
      imds.azure.metadata_facts:
    - name: info
      imds.azure.metadata_info:
        path: instance/compute/vmId
        format: text
    - name: own option wins
      imds.azure.metadata_info:
        path: instance/compute/vmId
        format: text
        api_version: '2019-06-01'
    - name: events
      imds.azure.scheduled_events:
    - name: events by path
      imds.azure.metadata_info:
        path: scheduledevents
"""

HANG_PLAY = """- hosts: all
  gather_facts: false
  module_defaults:
    group/imds.azure.imds:
      endpoint: %(endpoint)s
      timeout: 1
      max_retry_time: 0
  tasks:
    - name: facts
      imds.azure.metadata_facts:
"""


def test_group_defaults_set_endpoint_and_api_version_for_every_module(tmp_path, emulator):
    """Also the README's case: an instance api-version for the whole group costs scheduled events no 400,
    as they have versions of their own."""
    # No AZURE_IMDS_ENDPOINT in the environment: only module_defaults can point the modules at the emulator.
    run = run_playbook(tmp_path, PLAY % {"endpoint": emulator.url})
    assert run.rc == 0, run.output
    assert run.task("facts")["result"]["ansible_facts"]["azure_imds"]["api_version"] == "2021-02-01"
    assert run.task("info")["result"]["api_version"] == "2021-02-01"
    assert run.task("own option wins")["result"]["api_version"] == "2019-06-01"
    assert run.task("events")["result"]["api_version"] == "2020-07-01"
    assert run.task("events by path")["result"]["api_version"] == "2020-07-01"
    sent = [dict(request.query).get("api-version") for request in emulator.requests]
    assert sent == ["2021-02-01", "2021-02-01", "2019-06-01", "2020-07-01", "2020-07-01"]
    assert [request.status for request in emulator.requests] == [200] * 5
    assert "WARNING" not in run.stdout + run.stderr


def test_group_defaults_set_the_timeout(tmp_path, emulator):
    emulator.add_fault("kind=hang")
    run = run_playbook(tmp_path, HANG_PLAY % {"endpoint": emulator.url})
    assert run.rc == 2, run.output
    result = run.task("facts")["result"]
    assert result["error_type"] == "ImdsTimeoutError"
    assert "did not answer within 1.0 s" in result["msg"]
    assert result["attempts"] == 1
