"""Merchant accounts, their API keys and console users."""
