"""A faithful Azure IMDS emulator for the imds.azure tests (importable as ``emulator``)."""
