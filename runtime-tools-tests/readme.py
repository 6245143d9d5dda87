#!/usr/bin/env python3
"""Refreshes the generated parts of README.md.

    runtime-tools-tests/readme.py                 # tables: requirements (from the runner's --list), hull's known-gaps
    runtime-tools-tests/readme.py RESULTS_FILE    # also the Results table, from the output of
                                                  # run.sh --runtime hull --runtime runc --runtime crun
Run after building (run.sh builds); prose around the tables is kept as written.
"""
import os
import re
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
runner = os.path.join(here, "target/x86_64-unknown-linux-gnu/release/runner")


def replace(text, start_marker, end_marker, body):
    start = text.index(start_marker)
    end = text.index(end_marker, start)
    return text[:start] + body + text[end:]


def main():
    path = os.path.join(here, "README.md")
    readme = open(path).read()
    table = subprocess.run([runner, "--list"], capture_output=True, text=True, check=True).stdout
    head = "| spec file | requirement (the MUST/SHOULD sentence) | case |\n|---|---|---|\n"
    readme = replace(readme, "| spec file |", "\n\n## Requirements no case covers", head + table.rstrip("\n"))
    gaps = []
    for line in open(os.path.join(here, "known-gaps")):
        line = line.strip()
        if line and not line.startswith("#"):
            case, area = line.split(None, 1)
            gaps.append(f"| `{case}` | {area} |")
    readme = replace(readme, "| case | waits for |", "\n\n## Results", "| case | waits for |\n|---|---|\n" + "\n".join(gaps))
    if len(sys.argv) > 1:
        lines = open(sys.argv[1]).read().splitlines()
        totals = "| runtime | passed | failed | skipped |\n|---|---|---|---|\n"
        for l in lines:
            m = re.match(r"conformance: (\d+) passed, (\d+) failed, (\d+) skipped\s+# (\S+)", l)
            if m:
                totals += f"| {m.group(4)} | {m.group(1)} | {m.group(2)} | {m.group(3)} |\n"
        readme = replace(readme, "| runtime | passed |", "\nThe five skips", totals)
        grid = [l for l in lines if not l.startswith("#") and not l.startswith("conformance")]
        start = readme.index("```\ncase ")
        end = readme.index("```\n", start + 4)
        readme = readme[:start] + "```\n" + "\n".join(grid) + "\n" + readme[end:]
    open(path, "w").write(readme)


if __name__ == "__main__":
    main()
