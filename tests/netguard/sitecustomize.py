"""Loaded by every Python subprocess of the tests (PYTHONPATH): install the network guard."""

import os

if os.environ.get("IMDS_AZURE_NETGUARD_LOG"):
    import imds_netguard

    imds_netguard.install()
