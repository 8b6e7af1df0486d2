"""An RFC 3161 time-stamping authority on 127.0.0.1 for the evidence-pack tests: each POSTed query is
answered by OpenSSL's own `openssl ts -reply` with a throwaway self-signed RSA certificate made for time
stamping only. Nothing leaves the machine."""

from __future__ import annotations

import shutil
import subprocess
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

TSA_CONFIG = """[ tsa ]
default_tsa = sgi_test_tsa
[ sgi_test_tsa ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def tsa_certificate(directory: Path) -> bytes:
    """A self-signed RSA certificate for time stamping only (critical extendedKeyUsage timeStamping)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sgi test TSA")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .sign(key, hashes.SHA256()))
    (directory / "tsa.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.TraditionalOpenSSL,
                                                          serialization.NoEncryption()))
    (directory / "tsa.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "serial").write_text("01\n")
    (directory / "tsa.cnf").write_text(TSA_CONFIG.format(dir=directory))
    return (directory / "tsa.pem").read_bytes()


@contextmanager
def serve_tsa(directory: Path):
    """Yields {"url", "cert" (PEM bytes), "cert_file", "served" (content types of the queries answered)}."""
    if not shutil.which("openssl"):
        pytest.skip("needs the openssl command")
    directory.mkdir(parents=True, exist_ok=True)
    cert = tsa_certificate(directory)
    served: list[str] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            query = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                (directory / "q.tsq").write_bytes(query)
                subprocess.run(["openssl", "ts", "-reply", "-config", str(directory / "tsa.cnf"), "-queryfile",
                                str(directory / "q.tsq"), "-out", str(directory / "r.tsr")], check=True,
                               capture_output=True)
                answer = (directory / "r.tsr").read_bytes()
                served.append(self.headers["Content-Type"])
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{server.server_address[1]}/", "cert": cert,
               "cert_file": directory / "tsa.pem", "served": served}
    finally:
        server.shutdown()
        server.server_close()
