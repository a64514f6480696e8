"""Gig drivers from an offer to a doorstep: accounts and hours, fair offers, the block's state
machine, check-in, scans, stops, proof of delivery, returns, earnings and standing."""
