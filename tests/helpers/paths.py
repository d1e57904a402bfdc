"""Where things are: this checkout, the shared IMDS facts beside it, the set-up cache."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
SHARED = ROOT.parent / "shared" / "imds"
SAMPLES = SHARED / "samples"
FIELD_SAMPLES = SHARED / "field-samples"
SPEC = SHARED / "spec" / "imds-2023-07-01.json"
CACHE = ROOT / ".cache"
COLLECTIONS_PATH = CACHE / "collections"
NETGUARD_DIR = TESTS / "netguard"
CALLBACK_DIR = TESTS / "helpers" / "callback_plugins"
EMULATOR_SERVE = TESTS / "emulator" / "serve.py"
VENV_BIN = Path(sys.executable).parent
PYTHON = sys.executable
