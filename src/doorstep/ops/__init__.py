"""The operator's side: people and roles (who may do what), the audit log, the exceptions to
act on and the day's numbers."""
