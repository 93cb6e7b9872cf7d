"""Sage Active: the GraphQL client, its typed operations, and the local sandbox."""
