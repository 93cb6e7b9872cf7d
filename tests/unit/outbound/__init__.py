"""Unit tests of outbound webhooks (connectors.outbound, bridge.events, bridge.outbound)."""
