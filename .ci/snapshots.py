"""Every committed insta snapshot is read by a test, and none is pending.

Reads the list insta wrote during `cargo test --workspace`
(INSTA_SNAPSHOT_REFERENCES_FILE: one snapshot path per assertion) and
compares it with the `.snap` files in the repository. A file no test reads
is a leftover of a renamed or removed test; a `.snap.new` or
`.pending-snap` file is an unreviewed change.
"""

import os
import subprocess
import sys


def main() -> int:
    references_file = sys.argv[1]
    root = os.path.realpath(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    tracked = subprocess.run(
        ["git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard"],
        check=True, capture_output=True, text=True,
    ).stdout.splitlines()
    snapshots = {os.path.realpath(os.path.join(root, f)) for f in tracked if f.endswith(".snap")}
    pending = [f for f in tracked if f.endswith((".snap.new", ".pending-snap"))]
    try:
        with open(references_file, encoding="utf-8") as f:
            read = {os.path.realpath(line.strip()) for line in f if line.strip()}
    except FileNotFoundError:
        read = set()
    if not read and snapshots:
        print(f"!! no test read a snapshot ({references_file} is empty or missing)")
        return 1
    unread = sorted(os.path.relpath(p, root) for p in snapshots - read)
    for path in unread:
        print(f"!! no test reads {path}")
    for path in pending:
        print(f"!! unreviewed snapshot change: {path}")
    if unread or pending:
        return 1
    print(f"{len(snapshots)} snapshot files, every one read by a test")
    return 0


if __name__ == "__main__":
    sys.exit(main())
