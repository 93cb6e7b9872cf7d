"""Tests of the pure translation from provider payloads to the neutral models."""
