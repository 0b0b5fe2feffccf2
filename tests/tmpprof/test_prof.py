import cProfile, pstats, time, os
import pytest, time_machine
from retention.outreach import services
from retention.outreach.audience import campaign_fan_out
from retention.outreach.sending import outreach_send
from subscribers.models import Subscriber
from tests.factories import PlanFactory, SubscriberFactory
from tests.retention.outreach.helpers import NOW, draft

pytestmark = pytest.mark.django_db

@pytest.mark.parametrize("channel", ["sms", "email"])
def test_prof(manager, settings, monkeypatch, channel):
    monkeypatch.setattr("retention.core.broker.enqueue", lambda task, *args: True)
    monkeypatch.setenv("SSL_CERT_FILE", os.environ["PROF_CERT"])
    settings.SEND_CONCURRENCY = 1
    settings.SMS_BACKEND = "http"; settings.SMS_HTTP_URL = os.environ["PROF_SMS"]; settings.SMS_HTTP_TOKEN = "t"
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": {"host": "127.0.0.1", "port": int(os.environ["PROF_SMTP"]), "timeout": 5}}}
    with time_machine.travel(NOW, tick=False):
        plan = PlanFactory.create()
        Subscriber.objects.bulk_create(SubscriberFactory.build(plan=plan) for _ in range(3000))
        c = draft(manager, channel=channel)
        services.campaign_launch(campaign=c, actor=manager)
        campaign_fan_out(campaign=c)
        outreach_send(campaign_id=c.pk, limit=50)
        prof = cProfile.Profile()
        t = time.perf_counter(); c0 = time.process_time()
        prof.enable()
        n = 0
        while (r := outreach_send(campaign_id=c.pk)).claimed:
            n += r.sent
            if not r.sent: print(r); from retention.models import OutreachMessage as M; print(list(M.objects.exclude(error="").values_list("state","error")[:3])); break
        prof.disable()
        dt = time.perf_counter() - t
        print(f"\n{channel}: {n} in {dt:.2f}s = {n/dt:.0f}/s cpu {(time.process_time()-c0)/n*1000:.2f} ms/msg")
        st = pstats.Stats(prof); st.sort_stats("cumulative"); st.print_callees("_prepare"); st.print_callees("mark"); st.print_callees("message_render")
