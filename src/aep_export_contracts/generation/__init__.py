"""Generation: builders, one mutation registry, hypothesis strategies and bulk output."""
