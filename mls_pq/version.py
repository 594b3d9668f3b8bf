"""The package version (one home; read by the CLI, the benchmark metadata and ``mls_pq.__version__``)."""

__version__ = "0.1.0"
