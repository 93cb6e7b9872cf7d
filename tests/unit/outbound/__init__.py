"""Unit tests of outbound webhooks (connectors.outbound, bridge.outbound)."""
