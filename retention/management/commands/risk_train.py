from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from retention.models import RiskModel
from retention.risk.services import risk_nightly, risk_train


class Command(BaseCommand):
    help = (
        "Train a new version of the churn model from the desk's own outcomes and make it the "
        "active one (rule-based while there is too little history), then score every active "
        "subscriber with it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-none",
            action="store_true",
            help="do nothing when a version exists already (make run, the second time)",
        )
        parser.add_argument(
            "--no-score", action="store_true", help="train only; the nightly run scores"
        )

    def handle(self, *args: object, **options: object) -> None:
        if options["if_none"] and RiskModel.objects.exists():
            self.stdout.write("A churn model exists already: nothing to do.")
            return
        today = timezone.localdate()
        model = risk_train(today=today)
        self.stdout.write(_describe(model))
        if not options["no_score"]:
            scored = risk_nightly(today=today)
            self.stdout.write(f"Scored {scored} active subscribers with v{model.version}.")


def _describe(model: RiskModel) -> str:
    figures = (
        f"held-out AUC {model.auc:.3f}, precision in the top 10 % {model.precision_top10:.3f}"
        if model.auc is not None and model.precision_top10 is not None
        else "no held-out figures"
    )
    rules = (
        f"; rule-based AUC {model.rules_auc:.3f} on the same rows"
        if model.rules_auc is not None
        else ""
    )
    return (
        f"Churn model v{model.version} ({model.kind}): {model.rows_train} training rows "
        f"({model.positives_train} asked to cancel), {model.rows_test} held out; {figures}"
        f"{rules}; {model.seconds:.1f} s."
    )
