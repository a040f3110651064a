"""The live contract check: a client, lifecycle workflows, negative checks and safety rails."""
