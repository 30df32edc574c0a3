"""The framework layer: database base, security, permissions, audit. Imports no feature package."""
