"""The queue's saved views: a name for a set of filters and a sort, kept for one agent or
shared with a team."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from retention.core.history import HistoryRecord


class SavedView(models.Model):
    """Personal (``owner``) or shared with a team (``team``): exactly one of the two.

    ``filters`` holds the queue's query parameters as the FilterSet reads them (a code, an id,
    "on"), never a sentence; they are validated again by the FilterSet every time the view is
    used, because a reason or a plan they name may have gone since.
    """

    name = models.CharField(_("name"), max_length=60)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="saved_views",
        verbose_name=_("owner"),
    )
    team = models.ForeignKey(
        "retention.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="saved_views",
        verbose_name=_("team"),
    )
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    sort = models.CharField(_("sort"), max_length=40, blank=True, default="")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["position", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(owner__isnull=False, team__isnull=True)
                | models.Q(owner__isnull=True, team__isnull=False),
                name="savedview_owner_xor_team",
            ),
            models.UniqueConstraint(
                fields=["owner", "name"],
                condition=models.Q(owner__isnull=False),
                name="savedview_owner_name_uniq",
            ),
            models.UniqueConstraint(
                fields=["team", "name"],
                condition=models.Q(team__isnull=False),
                name="savedview_team_name_uniq",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "position"], name="savedview_owner"),
            models.Index(fields=["team", "position"], name="savedview_team"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_team(self) -> bool:
        return self.team_id is not None


class SavedViewHistory(HistoryRecord):
    """Who created, changed or deleted a team's view: a whole team works by them. The view's
    name is kept on the row, which outlives a deleted view."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Updated")
        RENAMED = "renamed", _("Renamed")
        DELETED = "deleted", _("Deleted")

    view = models.ForeignKey(
        SavedView, on_delete=models.SET_NULL, null=True, blank=True, related_name="history"
    )
    team = models.ForeignKey("retention.Team", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=60)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)

    class Meta:
        verbose_name = _("saved view history entry")
        verbose_name_plural = _("saved view history")
