"""Prices and their validation: revisions of stored closes, and the Great Expectations suite with its pandas
pre-flight and reports (the sources that fetch prices are I/O: they live in the core)."""
