"""The e2e driver for a Channels site: processes, Redis, load clients, faults, report."""
