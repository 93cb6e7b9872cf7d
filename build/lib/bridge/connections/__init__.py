"""Many shops, Stripe accounts and Sage organisations served by one deployment.

A *connection* is one source (a Shopify shop, or a Stripe account / webhook endpoint) booked
into one Sage organisation with its own mapping and secrets. The environment-only set-up is
the connection `default` (keys `bridge:default:...`, as always); every other connection is
kept in Redis by `ConnectionRegistry` (`bridge.connections.registry`), its secrets encrypted
with `BRIDGE_SECRET_KEY` (`bridge.connections.secrets`).

- `hub.ServicesHub` builds, per connection, the `Services` the existing code paths take (its
  settings view: key prefix, mapping, secrets, Sage organisation and tokens).
- `scheduler.FairScheduler` hands events to Celery round-robin across connections, with a
  bound on each connection's events in flight, so one backlog cannot delay the others.
- `admin` (the `/admin/connections` API) and `cli` (`bridge connections ...`) manage them.
"""
