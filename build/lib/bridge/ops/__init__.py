"""Operations: keeping a running bridge healthy and repairing what went wrong.

`doctor` and `doctor_checks`: `bridge doctor`. `gates`: events wait while Sage needs a
login or its circuit is open; `alerts`: the operator is told once. `replay`: queue failed
events again; `backfill`: what the providers say happened, fed through the webhook path.
`sage_login`: the one-time OAuth exchange with Sage Active.
"""
