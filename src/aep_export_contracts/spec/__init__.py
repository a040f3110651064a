"""Spec facts: the contracts, the OpenAPI description and what is read from them."""
