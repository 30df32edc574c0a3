"""The catalogue feature's domain events."""

from __future__ import annotations

from portfolio.core.events import Event

catalogue_imported = Event("catalogue.imported",
                           "imported {qualification} as catalogue version {version}")
