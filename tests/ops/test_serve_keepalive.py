"""`guanxi serve` keeps an idle connection open for longer than a client pauses between two requests.

With gunicorn's default keep-alive (2 s), the server closed connections that clients were reusing after a pause: a
PATCH or POST sent at that moment was lost ("connection closed"; a client retries only idempotent requests), 11
writes in the load test. A raw socket shows it without a client's reconnect logic: two requests on ONE connection,
5 seconds apart, the second a write that must be answered and applied.
"""

import json
import socket
import time

import pytest

from guanxi.customers.models import Customer
from tests.conftest import PASSWORD, make_customer
from tests.ops.conftest import database_url
from tests.ops.processes import guanxi_env, start_server

pytestmark = [
    pytest.mark.crash,
    pytest.mark.postgresql,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

IDLE_SECONDS = 5  # well past gunicorn's default of 2 s, and well within Guanxi's


def _exchange(sock: socket.socket, method: str, path: str, body: dict, headers: dict | None = None) -> tuple:
    """One HTTP/1.1 request on the open socket; (status, headers, JSON body) of the answer, or None if the server
    closed the connection instead of answering."""
    payload = json.dumps(body).encode()
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    head += [f"Content-Length: {len(payload)}", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
    received = b""
    while b"\r\n\r\n" not in received:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return None
        if not chunk:
            return None
        received += chunk
    raw_head, rest = received.split(b"\r\n\r\n", 1)
    lines = raw_head.decode("latin-1").split("\r\n")
    fields = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    while len(rest) < int(fields["content-length"]):
        rest += sock.recv(65536)
    return int(lines[0].split()[1]), fields, json.loads(rest)


def test_a_write_after_a_pause_on_a_kept_alive_connection_is_answered(users, tmp_path):
    customer = make_customer(users.am1, name="长连接测试客户")
    env = guanxi_env(database_url=database_url(), home=tmp_path / "home")
    server, base = start_server(env, tmp_path / "serve.log")
    try:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
            status, fields, body = _exchange(
                sock, "POST", "/api/v1/auth/token", {"username": "am1", "password": PASSWORD}
            )
            assert status == 200, body
            assert fields.get("connection", "").lower() != "close"

            time.sleep(IDLE_SECONDS)
            answer = _exchange(
                sock,
                "PATCH",
                f"/api/v1/customers/{customer.pk}",
                {"version": customer.version, "address": "建设路8号"},
                {"Authorization": f"Bearer {body['token']}"},
            )
        assert answer is not None, "the server closed the idle connection: the write was lost"
        assert answer[0] == 200, answer
        assert Customer.objects.get(pk=customer.pk).address == "建设路8号"
    finally:
        server.stop()
