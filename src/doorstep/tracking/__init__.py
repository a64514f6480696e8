"""The shopper's side of a package: the tracking page's facts, live updates, returns."""
