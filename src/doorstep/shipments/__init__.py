"""Carrier shipments after the plan: labels, counter hand-over, carrier tracking."""
