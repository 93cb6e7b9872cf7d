"""Stripe objects -> neutral models: invoices, charges and refunds (`objects`), Checkout
sessions (`checkout`), Billing credit notes (`credit_note`), line taxes by version (`taxes`)."""
