"""The delivery promise: which speeds a basket can get to an address, from where, how."""
