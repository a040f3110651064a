"""The validation engine: compiled validators, explanations, shortcuts, payload and exchange validation."""
