"""Local provider sinks, started for one test and stopped after it, and the settings that point
the desk's e-mail and SMS backends at them. A plugin of the whole suite (tests/conftest.py), so
any test directory asks for them by name."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from retention.sinks import SmsSink, SmtpSink
from retention.sinks.tls import self_signed_certificate, server_context

SINK_TOKEN = "sink-token"


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def sms_sink() -> Iterator[SmsSink]:
    with SmsSink() as sink:
        yield sink


@pytest.fixture(scope="session")
def sink_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("sink-tls"))


@pytest.fixture
def https_sms_sink(sink_certificate, monkeypatch) -> Iterator[SmsSink]:
    """The SMS sink over https, trusted by this process: the product's backend refuses http.
    Python's default TLS context reads SSL_CERT_FILE each time one is made."""
    cert, key = sink_certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with SmsSink(ssl_context=server_context(cert, key), token=SINK_TOKEN) as sink:
        yield sink


@pytest.fixture
def email_to_sink(settings, smtp_sink: SmtpSink) -> SmtpSink:
    """Django's default mailer speaks SMTP to the sink, as settings.py builds it for smtp."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": smtp_sink.host, "port": smtp_sink.port, "timeout": 5},
        }
    }
    return smtp_sink


@pytest.fixture
def sms_to_sink(settings, https_sms_sink: SmsSink) -> SmsSink:
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = https_sms_sink.url
    settings.SMS_HTTP_TOKEN = SINK_TOKEN
    return https_sms_sink
