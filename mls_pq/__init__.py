"""mls-pq: MLS (RFC 9420) with pluggable classical, post-quantum and hybrid cipher suites."""

__version__ = "0.1.0"
