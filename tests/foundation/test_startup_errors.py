"""Start-up failures named by their cause and the config key to look at: the database, the
appservice or metrics port already taken, an https:// address on a plain-HTTP homeserver."""

from __future__ import annotations

import datetime
import json
import secrets
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bridge.__main__ import main
from bridge.matrix.tls_probe import plain_http_behind_https
from bridge.sandbox.homeserver import free_port

from .conftest import WriteConfig


def test_an_unreachable_database_names_the_key_and_the_host_not_the_password(
    write_config: WriteConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    url = f"postgresql://bridge:s3cret-pw@127.0.0.1:{port}/bridge"
    path = write_config({"appservice.database.url": url})
    assert main(["-c", str(path), "db", "upgrade"]) == 1
    err = capsys.readouterr().err
    assert (
        "Error: cannot connect to the database (appservice.database.url: PostgreSQL at "
        f"127.0.0.1:{port}, database bridge): " in err
    )
    assert "s3cret-pw" not in err and "Traceback" not in err


def test_an_sqlite_file_that_cannot_be_opened_is_named(
    write_config: WriteConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "not-a-folder").write_text("")
    database = tmp_path / "not-a-folder" / "bridge.db"
    path = write_config({"appservice.database.url": f"sqlite:{database}"})
    assert main(["-c", str(path), "db", "upgrade"]) == 1
    err = capsys.readouterr().err
    assert (
        "Error: cannot open the database (appservice.database.url: the SQLite file "
        f"{database}): unable to open database file\n" in err
    )


def test_a_taken_appservice_port_says_the_bridge_may_already_run(
    ready_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        path = ready_config
        path.write_text(path.read_text().replace("port: 29334", f"port: {port}"))
        capsys.readouterr()  # only what the bridge prints
        assert main(["-c", str(path)]) == 1
    err = capsys.readouterr().err
    assert (
        f"Error: cannot listen on 127.0.0.1:{port} (appservice.hostname, appservice.port): "
        "the address is already in use. The bridge, or an import (which runs the bridge), "
        "may already be running" in err
    )
    assert "Traceback" not in err


@pytest.mark.parametrize("command", [[], ["import", "--guild", "123"]], ids=["run", "import"])
def test_a_taken_metrics_port_says_the_bridge_may_already_run(
    write_config: WriteConfig, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A running bridge holds metrics.listen_address: a second one (or an import) says so."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        path = write_config(
            {
                "appservice.as_token": secrets.token_urlsafe(32),
                "appservice.hs_token": secrets.token_urlsafe(32),
                "discord.bot_token": "MTIz.fake.token",
                "metrics.enabled": True,
                "metrics.listen_address": f"127.0.0.1:{port}",
            }
        )
        capsys.readouterr()  # only what the bridge prints
        assert main(["-c", str(path), *command]) == 1
    err = capsys.readouterr().err
    assert (
        f"Error: cannot listen on 127.0.0.1:{port} (metrics.listen_address): "
        "the address is already in use. The bridge, or an import (which runs the bridge), "
        "may already be running: stop it first. If another program uses the port, choose "
        "another port in metrics.listen_address, or set metrics.enabled to false.\n" in err
    )
    assert "Errno" not in err and "Traceback" not in err


class _PlainMatrix(BaseHTTPRequestHandler):
    """A plain-HTTP /versions that, like Synapse, waits for a request line it never gets
    when a TLS ClientHello arrives instead."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = json.dumps({"versions": ["v1.11"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def plain_homeserver() -> Iterator[int]:
    """The port of a plain-HTTP server answering /_matrix/client/versions on 127.0.0.1."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PlainMatrix)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(10)


def test_https_address_on_a_plain_http_homeserver_is_said_so(
    ready_config: Path, plain_homeserver: int, capsys: pytest.CaptureFixture[str]
) -> None:
    address = f"https://127.0.0.1:{plain_homeserver}"
    path = ready_config
    text = path.read_text().replace("http://127.0.0.1:8008", address)
    path.write_text(text.replace("port: 29334", f"port: {free_port()}"))
    assert main(["-c", str(path)]) == 1
    err = capsys.readouterr().err
    assert (
        f"Error: homeserver.address is {address}, but the homeserver at "
        f"127.0.0.1:{plain_homeserver} speaks plain HTTP, not HTTPS" in err
    )
    assert f"Set homeserver.address to http://127.0.0.1:{plain_homeserver}" in err


async def test_probe_recognises_a_server_that_answers_tls_with_plain_http() -> None:
    """aiohttp (and nginx) answer a ClientHello with an HTTP 400: "wrong version number"."""
    app = web.Application()
    app.router.add_get(
        "/_matrix/client/versions", lambda _: web.json_response({"versions": ["v1.11"]})
    )
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        message = await plain_http_behind_https(f"https://127.0.0.1:{port}/")
        assert message is not None and f"Set homeserver.address to http://127.0.0.1:{port}," in (
            message
        )
        # Plain http:// is what it speaks: nothing to say; nor when nothing listens.
        assert await plain_http_behind_https(f"http://127.0.0.1:{port}") is None
        assert await plain_http_behind_https(f"https://127.0.0.1:{free_port()}") is None
    finally:
        await runner.cleanup()


def _self_signed(folder: Path) -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


async def test_probe_says_nothing_about_a_tls_homeserver(tmp_path: Path) -> None:
    app = web.Application()
    app.router.add_get(
        "/_matrix/client/versions", lambda _: web.json_response({"versions": ["v1.11"]})
    )
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=_self_signed(tmp_path)).start()
    try:
        assert await plain_http_behind_https(f"https://127.0.0.1:{port}") is None
    finally:
        await runner.cleanup()
