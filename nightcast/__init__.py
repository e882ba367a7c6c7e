"""nightcast: nightly retraining of a recurrent price forecaster, stored as Parquet, queried with DuckDB."""

from nightcast.console import quiet_environment

quiet_environment()  # before anything can import TensorFlow: the CLI, python -m, a Prefect worker alike

__version__ = "0.1.0"
