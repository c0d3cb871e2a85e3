"""A small Channels chat site, in the shape of the Channels tutorial, for the e2e run."""
