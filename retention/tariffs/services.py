from datetime import date

from subscribers.fit import fits_compute


def tariffs_nightly(*, today: date) -> int:
    """Every subscriber's fit from their last 12 months of usage; returns the fits written.
    Safe to run twice: each chunk replaces its subscribers' fits."""
    return fits_compute(today=today)
