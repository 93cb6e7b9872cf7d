"""docker-compose puts a buffering reverse proxy in front of `bridge web`: nginx publishes
the port, the bridge is only exposed to it, and nginx's deadlines and body limit are set
(and its limit is the bridge's default `BRIDGE_MAX_BODY`)."""

from __future__ import annotations

import re
from pathlib import Path

from bridge.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _service(compose: str, name: str) -> str:
    match = re.search(rf"^  {name}:\n((?:    .*\n|\n)+?)(?=^  \S|^\S|\Z)", compose, re.M)
    assert match, f"no service {name!r} in docker-compose.yml"
    return match.group(1)


def test_nginx_is_in_front_and_the_bridge_is_not_published() -> None:
    compose = (ROOT / "docker-compose.yml").read_text()
    proxy, web = _service(compose, "proxy"), _service(compose, "web")
    assert "nginx" in proxy
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy
    assert '"8000:8000"' in proxy
    assert "ports:" not in web  # reachable through nginx only


def test_nginx_buffers_whole_requests_within_deadlines() -> None:
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    directives = dict(re.findall(r"^\s*(\w+)\s+([^;]+);", conf, re.M))
    assert directives["client_header_timeout"] == "10s"
    assert directives["client_body_timeout"] == "30s"
    assert directives["proxy_request_buffering"] == "on"
    assert directives["client_max_body_size"] == "8m"
    assert Settings().webhook_max_body == 8 * 1024 * 1024
