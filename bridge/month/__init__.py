"""The month end: processors' fees as monthly supplier invoices, payouts reconciled with
the bank.

- `fees`: the pure part: a month, the fees of its payouts, the fee invoice's amounts.
- `store`: what each close did, per processor and month (Redis).
- `close`: `bridge close-month`: one purchase invoice per processor and month, posted and
  settled against the clearing account, exactly once.
- `bank`: each booked payout reconciled with its bank movement (Sage's bank feed).
- `view`: the month end on the Clearing page and in `GET /admin/clearing`.
"""
