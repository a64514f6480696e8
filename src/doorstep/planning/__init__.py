"""Planning the day: channel choice, waves, blocks and partner manifests."""
