"""Interaction metrics from events and feature signals: latency, contingency, synchrony, repair,
and agreement between codings. Each function is pure and names the paper it comes from."""
