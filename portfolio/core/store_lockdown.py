"""What keeps the embedded SeaweedFS's internal ports closed to everyone but itself.

``weed mini`` opens a master, a volume server, a filer and an S3 gateway, each with an HTTP and
a gRPC port. On loopback every local user reaches them, and out of the box none asks who is
calling: the filer lists, serves, overwrites and deletes files, the master deletes whole
collections. Only the S3 port, which checks request signatures, may answer strangers. So:

- ``-disableHttp`` (passed by the launcher) removes the master's and the filer's HTTP API; the
  master keeps only its status page, the filer answers 404. The master's ``/dir/assign``, which
  would hand out write tokens to anyone, goes with it.
- the volume server's HTTP port reads, writes and deletes only with a JWT signed by keys that
  only the store knows (``[jwt.signing]``, ``[jwt.signing.read]``; the filer's pair as well);
- every gRPC port requires TLS with a client certificate made for this instance: the
  components present it to each other, a stranger has none.

The keys and the certificate live in the store's private data folder, which weed reads
``security.toml`` from (its working directory comes first in its search path).
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from pathlib import Path

from portfolio.core.storage import StorageError

SECURITY_FILE = "security.toml"
CERTIFICATE = "tls/store.crt"
PRIVATE_KEY = "tls/store.key"
#: Each signs the tokens of one kind of HTTP request between the components.
JWT_SECTIONS = ("jwt.signing", "jwt.signing.read", "jwt.filer_signing", "jwt.filer_signing.read")
#: The gRPC servers and clients of weed mini (its maintenance worker and admin server too).
GRPC_COMPONENTS = ("master", "volume", "filer", "s3", "admin", "worker", "client")
CERTIFICATE_DAYS = 3650


def lock_down(data_dir: Path) -> None:
    """Write the ``security.toml`` that weed, started in ``data_dir``, reads: fresh JWT keys on
    every start (its tokens live seconds) and the instance's certificate, made once."""
    certificate, private_key = data_dir / CERTIFICATE, data_dir / PRIVATE_KEY
    if not (certificate.is_file() and private_key.is_file()):
        _make_certificate(certificate, private_key)
    lines = []
    for section in JWT_SECTIONS:
        lines += [f"[{section}]", f'key = "{secrets.token_urlsafe(32)}"', ""]
    # One self-signed certificate is both the authority and every component's identity: a peer
    # is trusted when it presents exactly this certificate.
    lines += ["[grpc]", f'ca = "{certificate}"', ""]
    for component in GRPC_COMPONENTS:
        lines += [f"[grpc.{component}]", f'cert = "{certificate}"', f'key = "{private_key}"', ""]
    _write_private(data_dir / SECURITY_FILE, "\n".join(lines))


def _make_certificate(certificate: Path, private_key: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise StorageError("The embedded store needs 'openssl' to make the certificate that "
                           "closes its internal ports: install OpenSSL, or set "
                           "PORTFOLIO_S3_ENDPOINT_URL to an existing S3 store.")
    certificate.parent.mkdir(mode=0o700, exist_ok=True)
    result = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(private_key), "-out", str(certificate),
         "-days", str(CERTIFICATE_DAYS), "-subj", "/CN=portfolio-embedded-store",
         "-addext", "subjectAltName=IP:127.0.0.1",
         "-addext", "extendedKeyUsage=serverAuth,clientAuth"],
        capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StorageError(f"openssl could not make the embedded store's certificate: "
                           f"{result.stderr.strip()}")
    private_key.chmod(0o600)


def _write_private(path: Path, text: str) -> None:
    """Readable by the owner only, from the first byte on."""
    path.unlink(missing_ok=True)
    path.touch(mode=0o600)
    path.write_text(text, encoding="utf-8")
