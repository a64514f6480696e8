"""Partner stores: staff accounts and onboarding, the morning scan-in, the staff route, counter
pick-up by code, pay statements (docs/partners.md)."""
