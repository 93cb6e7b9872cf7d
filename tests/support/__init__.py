"""Test fixtures shared by the whole suite, one module per part of the system."""
