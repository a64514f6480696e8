"""The sender speaks TLS to the address it checked and verifies the certificate against the
URL's host name, not the address."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from doorstep.webhooks.sender import ConnectError, WebhookSender
from tests.webhooks.conftest import FakeDns, local_receivers

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")

HOST = "hooks.shop.example"


@pytest.fixture
def certificate(tmp_path: Path) -> Path:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", f"/CN={HOST}"),
            *("-addext", f"subjectAltName=DNS:{HOST}"),
        ],
        check=True,
        capture_output=True,
    )
    return tmp_path


@pytest.fixture
def tls_server(certificate: Path) -> Iterator[tuple[int, list[str]]]:
    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            hosts.append(self.headers.get("host", ""))
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate / "cert.pem", certificate / "key.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield server.server_address[1], hosts
    server.shutdown()
    server.server_close()


def _post(url: str, trust: Path | None) -> int:
    context = ssl.create_default_context(cafile=str(trust / "cert.pem") if trust else None)
    policy = local_receivers(FakeDns({HOST: ["127.0.0.1"]}))

    async def go() -> int:
        async with WebhookSender(policy, ssl_context=context, timeout_s=5) as sender:
            return (await sender.post(url, content=b"{}")).status_code

    return asyncio.run(go())


def test_tls_to_the_checked_address_with_the_host_name_verified(
    certificate: Path, tls_server: tuple[int, list[str]]
) -> None:
    port, hosts = tls_server
    assert _post(f"https://{HOST}:{port}/hooks", certificate) == 200
    assert hosts == [f"{HOST}:{port}"]


def test_a_certificate_nobody_vouches_for_is_refused(
    tls_server: tuple[int, list[str]],
) -> None:
    port, hosts = tls_server
    with pytest.raises(ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        _post(f"https://{HOST}:{port}/hooks", None)
    assert hosts == []


def test_a_certificate_for_another_name_is_refused(
    certificate: Path, tls_server: tuple[int, list[str]]
) -> None:
    # The address is right and the certificate trusted, but it is not the URL's host's.
    port, hosts = tls_server
    with pytest.raises(ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        _post(f"https://127.0.0.1:{port}/hooks", certificate)
    assert hosts == []
