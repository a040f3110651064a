"""The live check: three layers (schema, lifecycle, negative) against one target."""
