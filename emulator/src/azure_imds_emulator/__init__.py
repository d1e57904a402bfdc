"""An Azure IMDS emulator: metadata, identities, attestation, scheduled events, faults (package azure_imds_emulator)."""
