"""The one shape of a history row: who did what, when, from what to what, and why.

Every state change writes one in the same transaction as the change (cases, offers, campaigns,
authority and contact-policy limits). A concrete history names the object it follows, its own
``action`` choices and, where it has states, ``from_status`` and ``to_status``.
"""

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class HistoryRecord(models.Model):
    """Append-only. ``note`` is what a person wrote; what the desk says itself is a phrase
    (``code`` and ``params``, subscribers.phrases), said in the reader's language."""

    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    action = models.CharField(_("action"), max_length=20)
    note = models.TextField(_("note"), blank=True)
    code = models.CharField(_("phrase"), max_length=40, blank=True, default="")
    params = models.JSONField(_("phrase parameters"), default=dict, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        action: Any = getattr(self, "get_action_display", lambda: self.action)()
        if not hasattr(self, "from_status"):
            return str(action)
        moved: Any = self  # a history of something with states
        return f"{action} {moved.from_status}→{moved.to_status}"
