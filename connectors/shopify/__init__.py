"""Shopify connector: webhook verification and payload models."""
