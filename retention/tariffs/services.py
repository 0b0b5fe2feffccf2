from datetime import date

from retention.dashboard.tariff_fit import fit_snapshot_take
from retention.outreach.notice import notices_nightly
from subscribers.fit import fits_compute


def tariffs_nightly(*, today: date) -> int:
    """Every subscriber's fit from their last 12 months of usage, then the dashboard's count of
    them and the annual best-tariff notices due today; returns the fits written. Safe to run
    twice: each chunk replaces its subscribers' fits, the snapshot replaces the day's, and a
    subscriber has one notice a year (a unique message row)."""
    written = fits_compute(today=today)
    fit_snapshot_take(today=today)
    notices_nightly(today=today)
    return written
