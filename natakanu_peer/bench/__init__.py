"""Benchmarks: commands that measure and print figures next to their references and targets.

Run ``python -m natakanu_peer.bench --help``. Nothing here is imported by the application.
"""
