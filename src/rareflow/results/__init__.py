"""Run results: one object with an xarray Dataset inside, written to Parquet and JSON."""
