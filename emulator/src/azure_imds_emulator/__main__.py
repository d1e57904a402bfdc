"""``python -m azure_imds_emulator``: the same as the ``azure-imds-emulator`` command."""

import sys

from .cli import main

sys.exit(main())
