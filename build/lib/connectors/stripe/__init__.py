"""Stripe connector: webhook verification and payload models."""
