"""Who may act: bearer tokens and page sessions of drivers, partner staff and operators, and
the one-time codes they sign in with."""
