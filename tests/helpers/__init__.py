"""Shared helpers of the imds.azure test suite."""
