"""Shopify's side of the sync: its handlers (orders, transactions, refunds) and what a
Shopify translation needs besides the body (`context`)."""
