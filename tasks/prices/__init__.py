"""Prices and their validation: the sources (files, the bundled sample, Yahoo) and their batching, revisions of
stored closes, and the Great Expectations suite with its pandas pre-flight and reports."""
