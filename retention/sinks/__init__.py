"""Local stand-ins for the desk's providers: an SMTP server and an SMS provider's HTTP API.

Used only by the tests and the benchmark, never by the product. Both listen on 127.0.0.1, count
the keys they receive (an e-mail's Message-ID, an SMS's Idempotency-Key) so a duplicate or a
lost message is visible, and can be made slow, failing, throttling or connection-dropping while
they run. ``python -m retention.sinks`` runs both in the foreground.
"""

from retention.sinks.sms import SmsSink
from retention.sinks.smtp import SmtpSink

__all__ = ["SmsSink", "SmtpSink"]
