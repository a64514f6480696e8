"""The network: stations, warehouses, malls and stores, partner stores, service areas."""
