"""The framework layer: database, transactions and the commit edge, events and hooks, errors,
security and permissions, the audit trail, logging, object storage and the upload-validation
path. Imports no feature package (see docs/architecture.md)."""
