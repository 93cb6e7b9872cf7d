"""Processor payouts booked in Sage: one balanced bank-journal entry per payout.

- `entry`: the pure part: balance transactions (normalised as `Movement`s) summed into a
  `PayoutTotals`, checked, and turned into the entry's lines.
- `mapping`: the accounts and journal (settings), checked against the books at start.
- `store`: payout links (entry ids, totals, intent markers) in Redis.
- `booking`: exactly-once booking under a per-payout lock.
- `stripe`, `shopify`: reading each processor's payouts and their transactions.
- `handlers`: the Stripe `payout.*` and Shopify Payments payout handlers.
- `clearing`: the reconciliation view of the clearing accounts.
"""
