"""The built HTML docsite (tools/docs.sh, `make docs`), opened as a user would: in headless Chromium.

Chromium runs without any network (its own empty network namespace when root, and in any case a
dead proxy and no name resolution), so a page that needed the internet would show it here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

SITE = Path(os.environ.get("IMDS_AZURE_DOCSITE", Path(__file__).resolve().parents[2] / ".cache/docsite/build/html"))
MODULE_PAGE = SITE / "collections" / "imds" / "azure" / "metadata_facts_module.html"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--proxy-server=http://127.0.0.1:9",
                  "--host-resolver-rules=MAP * ~NOTFOUND"]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("needs Chromium (apt-get install chromium; tools/setup.sh does it as root)", pytrace=False)


def rendered_dom(page: Path) -> str:
    """The DOM after Chromium loaded ``page`` and ran its scripts."""
    offline = ["unshare", "--net"] if os.geteuid() == 0 and shutil.which("unshare") else []
    with tempfile.TemporaryDirectory(prefix="imds-docsite-chromium-") as profile:
        completed = subprocess.run(offline + [chromium()] + CHROMIUM_FLAGS + ["--user-data-dir=" + profile,
                                   "--dump-dom", page.as_uri()],
                                   capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


@pytest.fixture(scope="module")
def module_dom() -> str:
    if not MODULE_PAGE.exists():
        pytest.fail("needs the built docsite (%s is missing): run `make docs`" % MODULE_PAGE, pytrace=False)
    return rendered_dom(MODULE_PAGE)


def test_module_page_renders_the_options_table(module_dom):
    tables = re.findall(r'<table class="[^"]*ansible-option-table[^"]*".*?</table>', module_dom, re.S)
    assert len(tables) >= 2, "no options/return tables in the rendered page"
    options = tables[0]
    for option in ("api_version", "endpoint", "include_user_data", "max_retry_time", "timeout"):
        assert 'id="parameter-%s"' % option in options, option
    # The cells hold the documentation, rendered: types, defaults and text.
    assert "ansible-option-type" in options and "float" in options
    assert "Default:" in options and "70" in options
    assert "<title>imds.azure.metadata_facts module" in module_dom


def test_pages_need_nothing_from_the_internet():
    pages = list(SITE.rglob("*.html"))
    assert pages, "no pages in %s" % SITE
    external = re.compile(r'<(?:script|link|img)[^>]+(?:src|href)="(?:https?:)?//', re.I)
    offenders = [str(page.relative_to(SITE)) for page in pages if external.search(page.read_text(encoding="utf-8"))]
    assert not offenders, "pages that load resources from the internet: %s" % offenders
