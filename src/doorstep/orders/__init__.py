"""Orders and the packages they are split into."""
