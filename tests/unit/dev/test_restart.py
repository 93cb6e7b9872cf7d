"""`bridge dev`'s restart policy and its port check."""

from __future__ import annotations

import socket

import pytest

from bridge.dev.restart import Backoff
from bridge.dev.supervisor import DevError, check_port


def test_restarts_back_off_while_a_child_keeps_exiting_and_reset_once_it_stays_up() -> None:
    backoff = Backoff()
    delays = []
    now = 0.0
    for _ in range(7):  # exits a second after each start
        delays.append(backoff.exited("worker", ran_for=1.0, now=now))
        assert backoff.waiting("worker")
        assert not backoff.due("worker", now + delays[-1] - 0.1)
        assert backoff.due("worker", now + delays[-1])
        assert not backoff.waiting("worker")
        now += delays[-1] + 1.0
    assert delays == [1.0, 2.0, 5.0, 10.0, 30.0, 30.0, 30.0]
    assert backoff.in_a_row("worker") == 7
    assert backoff.exited("worker", ran_for=3600.0, now=now) == 1.0  # it had stayed up
    assert backoff.exited("web", ran_for=1.0, now=now) == 1.0  # each child its own count


def test_connections_in_time_wait_do_not_make_the_port_taken() -> None:
    # A server that closed its side first leaves TIME-WAIT sockets on its port.
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    for _ in range(5):
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = listener.accept()
        accepted.close()  # the server closes first: TIME-WAIT on its side
        client.recv(1)
        client.close()
    listener.close()
    # What the check did before (a bind without SO_REUSEADDR) is refused:
    with socket.socket() as plain, pytest.raises(OSError, match="in use"):
        plain.bind(("127.0.0.1", port))
    check_port("127.0.0.1", port, "--port")  # no error


def test_a_listener_still_makes_the_port_taken_with_reuseaddr() -> None:
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(DevError, match="already in use"):
            check_port("127.0.0.1", port, "--port")
