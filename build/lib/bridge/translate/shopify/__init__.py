"""Shopify payloads -> neutral models: orders, transactions and refunds (`orders`), their
parts (`parts`), the lines beyond products and shipping (`extras`)."""
