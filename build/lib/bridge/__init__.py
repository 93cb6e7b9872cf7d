"""Sage Active Bridge: Shopify and Stripe events booked in Sage Active, exactly once."""

__version__ = "0.1.0"
