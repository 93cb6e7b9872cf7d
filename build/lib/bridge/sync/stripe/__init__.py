"""Stripe's side of the sync: Billing invoices, payments in every API version, refunds,
Checkout sales, credit notes, disputes, and the Stripe API reads they need (`reads`)."""
