"""The qualification catalogue: specifications, versions, units, criteria and the rules engine."""
