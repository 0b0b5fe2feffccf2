"""Churn risk: each version of the model that scores subscribers, with what it was trained on and
how well it did on months it never saw (retention.risk holds the rules)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RiskModel(models.Model):
    """One trained version. Every score on a subscriber names the version that computed it, and
    versions are kept: the model card compares the active one with the one before it.

    ``weights`` holds everything scoring needs, so a version scores the same way for as long
    as it is kept: ``features`` (names, in order), ``mean`` and ``scale`` (the standardisation),
    ``coef`` and ``intercept`` (the logistic regression, on the standardised signals),
    ``iso_x`` and ``iso_y`` (the calibration: a raw probability to an observed rate). A
    rule-based version holds the points of each rule instead (``points``).
    """

    class Kind(models.TextChoices):
        LEARNED = "learned", _("Learned from outcomes")
        RULES = "rules", _("Rule-based")

    version = models.PositiveIntegerField(_("version"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    is_active = models.BooleanField(_("scores subscribers now"), default=False)
    trained_at = models.DateTimeField(_("trained"), default=timezone.now)
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("trained by"),
        help_text=_("Empty when the nightly run or a command trained it."),
    )
    seconds = models.FloatField(_("training seconds"), default=0)
    # The snapshot days: the model learned from train_from..train_to and was measured on
    # test_from..test_to, later days it never saw.
    train_from = models.DateField(_("training from"), null=True, blank=True)
    train_to = models.DateField(_("training to"), null=True, blank=True)
    test_from = models.DateField(_("held out from"), null=True, blank=True)
    test_to = models.DateField(_("held out to"), null=True, blank=True)
    rows_train = models.PositiveIntegerField(_("training rows"), default=0)
    positives_train = models.PositiveIntegerField(
        _("training rows that asked to cancel"), default=0
    )
    rows_test = models.PositiveIntegerField(_("held-out rows"), default=0)
    positives_test = models.PositiveIntegerField(_("held-out rows that asked to cancel"), default=0)
    auc = models.FloatField(_("AUC, held out"), null=True, blank=True)
    precision_top10 = models.FloatField(
        _("precision in the top 10 %, held out"), null=True, blank=True
    )
    # The rule-based score measured on the same held-out rows: what learning adds.
    rules_auc = models.FloatField(_("rule-based AUC, held out"), null=True, blank=True)
    rules_precision_top10 = models.FloatField(
        _("rule-based precision in the top 10 %, held out"), null=True, blank=True
    )
    # [{"predicted": mean predicted rate, "observed": observed rate, "rows": n}], by decile.
    calibration = models.JSONField(_("calibration"), default=list, blank=True)
    weights = models.JSONField(_("weights"), default=dict, blank=True)
    # Why a rule-based version was made instead of a learned one: a phrase
    # ({"code": …, "params": …}), said in the reader's language.
    note = models.JSONField(_("note"), default=dict, blank=True)

    class Meta:
        verbose_name = _("churn risk model")
        verbose_name_plural = _("churn risk models")
        ordering = ["-version"]
        constraints = [
            # One version scores at a time.
            models.UniqueConstraint(
                fields=["is_active"],
                condition=models.Q(is_active=True),
                name="risk_model_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.version} ({self.get_kind_display()})"
