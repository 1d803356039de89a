"""Locust scenarios."""
