"""The JSON files of the paths option: which files, which host, what is wrong with them."""

from __future__ import annotations

import pytest
from ansible_collections.imds.azure.plugins.plugin_utils._fact_records import FactRecordError
from ansible_collections.imds.azure.plugins.plugin_utils._json_files import (
    PathError,
    files_of,
    host_of_file,
    read_json_file,
)


def test_files_of_a_directory_a_file_and_nothing(tmp_path):
    (tmp_path / "b.json").write_text("{}")
    (tmp_path / "a").write_text("{}")
    (tmp_path / ".hidden").write_text("{}")
    (tmp_path / "sub").mkdir()
    assert files_of(str(tmp_path)) == [str(tmp_path / "a"), str(tmp_path / "b.json")]
    assert files_of(str(tmp_path / "a")) == [str(tmp_path / "a")]
    with pytest.raises(PathError, match="does not exist: correct the path, or write the files there first"):
        files_of(str(tmp_path / "missing"))
    with pytest.raises(PathError, match="neither a file nor a directory"):
        files_of("/dev/null")


@pytest.mark.parametrize("name, host", [("/x/web1.json", "web1"), ("/x/web1", "web1"), ("/x/a.json.json", "a.json"),
                                        ("/x/.json", ""), ("/x/web1.JSON", "web1.JSON")])
def test_host_of_file(name, host):
    assert host_of_file(name) == host


def test_reading_good_and_bad_files(tmp_path):
    good = tmp_path / "good.json"
    good.write_text('{"compute": {"name": "é"}}', encoding="utf-8")
    assert read_json_file(str(good)) == {"compute": {"name": "é"}}
    cases = {"big.json": (b"{}" + b" " * 100, "more than the 64"), "latin1.json": (b'{"a": "\xe9"}', r"not UTF-8 text \(byte 7\)"),
             "html.json": (b"<html>", "not valid JSON"), "deep.json": (b"[" * 100000 + b"]" * 100000, "nested too deeply")}
    for name, (content, why) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(FactRecordError, match=why):
            read_json_file(str(tmp_path / name), max_bytes=64 if name == "big.json" else 1 << 24)


def test_utf16_is_not_guessed(tmp_path):
    """json.loads(bytes) would read UTF-16 with a BOM; a fact file is UTF-8 or it is refused."""
    path = tmp_path / "vm1.json"
    path.write_bytes('{"compute": {}}'.encode("utf-16"))
    with pytest.raises(FactRecordError, match="the file is not UTF-8 text"):
        read_json_file(str(path))
