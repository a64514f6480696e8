"""Signed webhooks: merchants register endpoints, a worker delivers every outbox event to them."""
