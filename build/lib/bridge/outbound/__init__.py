"""Outbound webhooks: what the bridge tells its subscribers.

`events`: the event catalogue (types and payloads). `subscription_spec`: a subscription as
an operator writes it (checked without network, also by the settings). `subscriptions`:
create, read, update, delete. `delivery`: `Outbound`, which records each event and
delivers it to every subscriber, with retries and a dead letter.
"""
