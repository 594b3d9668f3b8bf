"""The mls-pq benchmark: per cipher suite and group size N, the cost in octets and
milliseconds of MLS operations over the real engine, and why.

* :mod:`.scenarios` — groups of N members built fast over the real engine, two tree shapes,
  every measured operation runnable from a fixed state;
* :mod:`.measure` — timing and statistics (numpy), primitive counts, unit times, the crypto floor;
* :mod:`.model` — analytic sizes from the RFC 9420 encodings for any suite, N and shape;
* :mod:`.runner` — the run over suites × N × shapes; :mod:`.report` / :mod:`.plots` — output;
* :mod:`.cli` — ``mls-pq bench`` (``python -m mls_pq.bench`` works stand-alone).

numpy is required; rich (progress bar, tables) and matplotlib (plots) are optional:
``pip install 'mls-pq[bench]'``.
"""
