"""What merchants sell and how much of it sits at each node."""
