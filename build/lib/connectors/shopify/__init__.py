"""Shopify connector: webhook verification and payload models (`webhook`, `payloads`), and
the GraphQL Admin API (`graphql`: the cost-throttled client; `queries`; `orders`: the
backfill's reader, paged or bulk; `convert`: GraphQL objects -> webhook bodies)."""
