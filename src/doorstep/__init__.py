"""doorstep: a local same-day / two-day delivery network."""
