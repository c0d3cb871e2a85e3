"""The differential harness: generate programs, run them on both sides, compare traces."""
