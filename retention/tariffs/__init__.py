"""Tariff fit at the desk: the nightly recomputation of every subscriber's fit, and what the
desk does with it (the dashboard's snapshot, the annual best-tariff notice)."""
