"""``python -m retention.sinks``: both sinks in the foreground, on 127.0.0.1, until Ctrl-C.

    python -m retention.sinks --smtp-port 2525 --sms-port 8025 --latency-ms 20 --error-rate 0.01

Then ``EMAIL_BACKEND=smtp EMAIL_HOST=127.0.0.1 EMAIL_PORT=2525`` and, with ``--sms-tls`` (the
product's SMS backend speaks https only), ``SMS_BACKEND=http SMS_HTTP_URL=<printed url>
SSL_CERT_FILE=<printed file>``. On Ctrl-C it prints what each sink counted.
"""

import argparse
import contextlib
import json
import tempfile
import threading
from pathlib import Path

from retention.sinks.sms import SmsSink
from retention.sinks.smtp import SmtpSink
from retention.sinks.tls import self_signed_certificate, server_context


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m retention.sinks", description=__doc__)
    parser.add_argument("--smtp-port", type=int, default=0, help="0: any free port")
    parser.add_argument("--sms-port", type=int, default=0, help="0: any free port")
    parser.add_argument("--latency-ms", type=float, default=0, help="per message, both sinks")
    parser.add_argument("--error-rate", type=float, default=0.0, help="fraction refused")
    parser.add_argument("--smtp-error", choices=["temporary", "permanent"], default="temporary")
    parser.add_argument("--drop-every", type=int, default=0, help="drop every N-th; 0: never")
    parser.add_argument("--sms-token", default="", help="bearer token the SMS sink requires")
    parser.add_argument("--sms-tls", action="store_true", help="https with a fresh certificate")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    common = {
        "latency_ms": args.latency_ms,
        "error_rate": args.error_rate,
        "drop_every": args.drop_every,
    }
    with tempfile.TemporaryDirectory(prefix="sinks-") as folder:
        context = None
        if args.sms_tls:
            cert, key = self_signed_certificate(Path(folder))
            context = server_context(cert, key)
        smtp = SmtpSink(port=args.smtp_port, seed=args.seed, error_kind=args.smtp_error, **common)
        sms = SmsSink(
            port=args.sms_port, seed=args.seed, ssl_context=context, token=args.sms_token, **common
        )
        with smtp, sms:
            print(f"SMTP sink on {smtp.host}:{smtp.port}", flush=True)
            print(f"SMS sink at {sms.url}", flush=True)
            if context is not None:
                print(f"SSL_CERT_FILE={cert}", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                threading.Event().wait()
            print(json.dumps({"smtp": smtp.snapshot(), "sms": sms.snapshot()}, indent=2))


if __name__ == "__main__":
    main()
