"""Benchmark of bulk replay: N failed events queued again in one call, against a baseline
that replays them one by one (a filter read and a requeue per event), in the same run.

    .venv/bin/python bench/replay.py [--events 5000] [--rounds 3]

Prints, per round, the seconds each way and the ratio; both move every event from
`failed` back to `queued` (checked), on an embedded Redis.
"""

from __future__ import annotations

import argparse
import time

import redis
import stopping

from bridge.embedded_redis import EmbeddedRedis
from bridge.ops.replay import ReplayFilter, replay
from bridge.settings import Settings
from bridge.store.events import EventStatus, EventStore, NewEvent


def fail_all(store: EventStore, count: int, round_: int) -> list[str]:
    refs = []
    for n in range(count):
        event = NewEvent(
            provider="shopify", provider_id=f"r{round_}-{n}", topic="orders/create", body="{}"
        )
        store.record(event)
        store.mark(event.ref, EventStatus.FAILED, error="mapping")
        refs.append(event.ref)
    return refs


def one_by_one(store: EventStore, client: redis.Redis, refs: list[str]) -> int:
    """What a loop over the single-event replay costs: read the filter field, requeue."""
    queued = 0
    for ref in refs:
        if client.hget(store.event_key(ref), "topic") == "orders/create":
            queued += store.requeue(ref) is not None
    return queued


def main() -> None:
    stopping.install()  # SIGINT / SIGTERM: stop every child this bench started
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with EmbeddedRedis() as server:
        client = redis.Redis.from_url(server.url, decode_responses=True)
        store = EventStore(client, Settings(REDIS_URL=server.url, BRIDGE_CONNECTION="bench"))
        wanted = ReplayFilter(status="failed", topic="orders/create")
        for round_ in range(args.rounds):
            refs = fail_all(store, args.events, 2 * round_)
            started = time.perf_counter()
            report = replay(store, client, wanted)
            bulk = time.perf_counter() - started
            assert report.queued == args.events, report
            client.delete(store.outbox_key)

            refs = fail_all(store, args.events, 2 * round_ + 1)
            started = time.perf_counter()
            queued = one_by_one(store, client, refs)
            single = time.perf_counter() - started
            assert queued == args.events
            client.delete(store.outbox_key)
            print(
                f"round {round_ + 1}: {args.events} events: bulk {bulk:.3f} s "
                f"({args.events / bulk:,.0f}/s), one by one {single:.3f} s "
                f"({args.events / single:,.0f}/s): {single / bulk:.1f}x faster"
            )
        client.close()


if __name__ == "__main__":
    main()
