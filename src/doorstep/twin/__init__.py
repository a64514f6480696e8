"""The digital twin: the simulated world of `doorstep.sim` driving doorstep's own services."""
