"""A realistic demo day: merchants, catalogs and orders on the example network."""
