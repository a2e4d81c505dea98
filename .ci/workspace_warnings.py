"""Fails when cargo reported a warning or an error in one of the workspace's
own crates, from its --message-format=json output on standard input, and
prints each. Dependencies' warnings are capped by cargo and not ours to fix;
a flag such as RUSTFLAGS=-D warnings would rebuild every dependency too."""

import json
import sys

found = []
for line in sys.stdin:
    try:
        message = json.loads(line)
    except json.JSONDecodeError:
        continue
    if message.get("reason") != "compiler-message":
        continue
    if not message.get("package_id", "").startswith("path+file://"):
        continue
    diagnostic = message.get("message") or {}
    if diagnostic.get("level") in ("warning", "error"):
        found.append(diagnostic.get("rendered") or diagnostic.get("message", ""))
for rendered in found:
    print(rendered, end="" if rendered.endswith("\n") else "\n")
if found:
    sys.exit(f"{len(found)} warnings or errors in the workspace's crates")
