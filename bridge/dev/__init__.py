"""`bridge dev` (the supervisor) and the state it shares with `bridge demo`."""
