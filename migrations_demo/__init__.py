"""Q2 demo: zero-downtime schema changes on live PostgreSQL, each safe pattern next to its naive twin."""
