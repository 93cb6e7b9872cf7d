"""Watching Sage: what changed there since the bridge last looked, and what follows from it.

`cycle`: the poller (one cycle reads the changed sales invoices since the watermark).
`status`: invoice status transitions, emitted once (fed by the poller and by the sync).
`writeback`: a Shopify order whose invoice was collected in Sage is marked paid in Shopify.
"""
