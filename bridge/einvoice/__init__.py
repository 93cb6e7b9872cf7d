"""French e-invoicing through Sage Active's Plateforme Agréée (docs/einvoicing.md).

`routing`: pure rules (routing address, billing framework). `lifecycle`: the statuses the
poller reads and what they owe (events, attention items, the order's history). `retry`: a
person's retry of a failed submission. `doctor`: the `bridge doctor` check.
"""
