"""The desk's models, one module per room; imported from here as ``retention.models``."""

from retention.models.billing import (
    DeliveryAttempt,
    EndpointHistory,
    EventDelivery,
    WebhookEndpoint,
)
from retention.models.cases import CancellationCase, CancellationReason, CaseHistory, ContactAttempt
from retention.models.experiments import (
    Experiment,
    ExperimentArm,
    ExperimentAssignment,
    ExperimentHistory,
)
from retention.models.figures import (
    CaseOutcome,
    DailyFigure,
    LoyaltySnapshot,
    TariffFitSnapshot,
)
from retention.models.hardship import (
    ArrangementHistory,
    HardshipArrangement,
    HardshipPayment,
    Instalment,
)
from retention.models.macros import CaseMessage, MessageTemplate
from retention.models.notifications import Notification, Reminder
from retention.models.outreach import CampaignHistory, OutreachCampaign, OutreachMessage
from retention.models.risk import RiskModel
from retention.models.staff import TIME_ZONE_CHOICES, Heartbeat, Team, User
from retention.models.views import SavedView, SavedViewHistory

__all__ = [
    "TIME_ZONE_CHOICES",
    "ArrangementHistory",
    "CampaignHistory",
    "CancellationCase",
    "CancellationReason",
    "CaseHistory",
    "CaseMessage",
    "CaseOutcome",
    "ContactAttempt",
    "DailyFigure",
    "DeliveryAttempt",
    "EndpointHistory",
    "EventDelivery",
    "Experiment",
    "ExperimentArm",
    "ExperimentAssignment",
    "ExperimentHistory",
    "HardshipArrangement",
    "HardshipPayment",
    "Heartbeat",
    "Instalment",
    "LoyaltySnapshot",
    "MessageTemplate",
    "Notification",
    "OutreachCampaign",
    "OutreachMessage",
    "Reminder",
    "RiskModel",
    "SavedView",
    "SavedViewHistory",
    "TariffFitSnapshot",
    "Team",
    "User",
    "WebhookEndpoint",
]
