"""nightcast: nightly retraining of a recurrent price forecaster, stored as Parquet, queried with DuckDB."""

__version__ = "0.1.0"
