"""Assessment: decisions on criteria, unit sign-off, progress and the caseload."""
