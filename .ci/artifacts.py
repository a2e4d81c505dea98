"""Prints the executables cargo built, from its --message-format=json output
on standard input: `artifacts.py KIND NAME...` prints the path of each named
target of that kind (bin, example), one per line, in the order named, and
fails naming any cargo did not report."""

import json
import sys

kind, names = sys.argv[1], sys.argv[2:]
found = {}
for line in sys.stdin:
    try:
        message = json.loads(line)
    except json.JSONDecodeError:
        continue
    target = message.get("target") or {}
    if (
        message.get("reason") == "compiler-artifact"
        and message.get("executable")
        # `cargo test` also builds a bin target as a test harness: not it.
        and not (message.get("profile") or {}).get("test", False)
        and kind in target.get("kind", [])
        and target.get("name") in names
    ):
        found[target["name"]] = message["executable"]
missing = [name for name in names if name not in found]
if missing:
    sys.exit(f"cargo reported no {kind} named {', '.join(missing)}")
for name in names:
    print(found[name])
