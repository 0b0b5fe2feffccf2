"""A throwaway self-signed certificate for 127.0.0.1, so the SMS sink can speak https (the
product's HTTP SMS backend refuses any other scheme). Clients trust it through SSL_CERT_FILE."""

import shutil
import ssl
import subprocess
from itertools import chain
from pathlib import Path


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """Write ``sink.crt`` and ``sink.key`` into ``folder``; return their paths."""
    cert, key = folder / "sink.crt", folder / "sink.key"
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("the SMS sink's certificate is made by openssl, not found on PATH")
    options = {
        "-newkey": "ec",
        "-pkeyopt": "ec_paramgen_curve:prime256v1",
        "-days": "2",
        "-subj": "/CN=127.0.0.1",
        "-addext": "subjectAltName=IP:127.0.0.1",
        "-keyout": str(key),
        "-out": str(cert),
    }
    arguments = [openssl, "req", "-x509", "-nodes", *chain.from_iterable(options.items())]
    subprocess.run(arguments, check=True, capture_output=True)  # noqa: S603 - no shell
    return cert, key


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context
