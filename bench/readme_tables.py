"""Render a benchmark JSON (``mls-pq bench --out DIR`` -> ``DIR/results.json``) as the Markdown
tables of the README: the same tables as the terminal (sizes and times at the largest N per tree
shape, every time with its spread, ratios interleaved in time, ``!`` on unreliable figures) and the
footer that explains every column and mark.

    python bench/readme_tables.py docs/bench/results.json > /tmp/tables.md
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mls_pq.bench.report import footnotes, machine_line, summary_tables


def markdown(doc: dict) -> str:  # type: ignore[type-arg]
    out: list[str] = [f"Machine: {machine_line(doc)}.", ""]
    for title, header, rows in summary_tables(doc):
        out += [f"**{title}**", "", "| " + " | ".join(header) + " |",
                "|" + "|".join("---" if i < 2 else "---:" for i in range(len(header))) + "|"]
        out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
        out.append("")
    out += [f"- {line}" for line in footnotes(doc)]
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path, help="results.json written by mls-pq bench --out DIR")
    print(markdown(json.loads(ap.parse_args().results.read_text())), end="")


if __name__ == "__main__":
    main()
