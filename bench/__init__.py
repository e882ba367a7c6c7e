"""nightcast's benchmarks: `make bench` (or `python -m bench [--quick]`) prints one table of figures.

Every speed-up is measured side by side in the same run against a reference written here:
bench/tutorial.py holds the tutorial-faithful fit (Keras defaults) and the tutorial's windowing loop.
Benchmarks print figures; nothing here is a test and no test asserts a time.
"""
