"""`strongroom serve` as a user starts it: a real process, HTTP and HTTPS."""

from __future__ import annotations

import datetime
import ssl
import subprocess
import sys
import time

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.cli.helpers import cli_env
from tests.servers import free_port


def _wait(url: str, verify: ssl.SSLContext | bool = True) -> httpx.Response:
    deadline = time.monotonic() + 30
    while True:
        try:
            return httpx.get(url, verify=verify, timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _serve(env, *args):
    return subprocess.Popen(
        [sys.executable, "-m", "strongroom", "serve", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    out, _ = proc.communicate(timeout=20)
    return out


def test_serve_starts_on_a_fresh_data_folder_and_answers(tmp_path, db_url):
    port = free_port()
    env = cli_env(tmp_path / "data", db_url)
    env.pop("PYTHONWARNINGS")
    proc = _serve(env, "--port", str(port))
    try:
        r = _wait(f"http://127.0.0.1:{port}/api/v1/health")
        assert r.json()["status"] == "ok"
        assert _wait(f"http://127.0.0.1:{port}/signup").status_code == 200
    finally:
        out = _stop(proc)
    assert f"open http://127.0.0.1:{port}" in out


def _self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_serve_with_tls_cert_and_key_serves_https_with_secure_cookies(tmp_path, db_url):
    cert, key = _self_signed(tmp_path)
    port = free_port()
    env = cli_env(tmp_path / "data", db_url)
    env.pop("PYTHONWARNINGS")
    proc = _serve(env, "--port", str(port), "--tls-cert", str(cert), "--tls-key", str(key))
    try:
        trust = ssl.create_default_context(cafile=str(cert))
        r = _wait(f"https://127.0.0.1:{port}/signup", verify=trust)
        assert r.status_code == 200
        assert "Secure" in r.headers["set-cookie"]
        assert r.headers["strict-transport-security"].startswith("max-age=")
    finally:
        _stop(proc)


def test_serve_with_several_workers_refuses_a_wrong_master_key_in_one_line(tmp_path, db_url):
    """The installation is checked in a child process before the workers start; its error is
    the command's, with the same exit code, and nothing starts."""
    env = cli_env(tmp_path / "data", db_url)
    env.pop("PYTHONWARNINGS")
    first = _serve(env, "--port", str(free_port()), "--workers", "2")
    try:
        _wait_for_key(tmp_path / "data" / "master.key")
    finally:
        _stop(first)
    (tmp_path / "data" / "master.key").write_text("not a key\n")
    run = subprocess.run(
        [sys.executable, "-m", "strongroom", "serve", "--port", str(free_port()), "--workers", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 8, run.stderr
    assert run.stderr.strip().startswith("strongroom: error: ")
    assert "master key" in run.stderr and "Traceback" not in run.stderr
    assert "Strongroom is running" not in run.stdout


def _wait_for_key(path) -> None:
    deadline = time.monotonic() + 30
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert path.exists()
