"""`bridge dev` (the supervisor), `bridge demo` (`demo`, with its sample events in
`demo_data`) and the state they share."""
