"""The HTTP face of doorstep (FastAPI)."""
