"""Writes the spec schemathesis tests: openapi/bundled.json as OpenAPI reads it.

OpenAPI 3.0 says header parameters named Accept, Content-Type or
Authorization SHALL be ignored (the media types come from the request and
response `content`, credentials from `security`). The project's spec
declares them for the generator; schemathesis would treat them as real
parameters, so they are dropped here.

XML request bodies are dropped too where a JSON one is offered: schemathesis
writes an empty string and an empty object alike (`<a></a>`), so no server
can tell its valid XML bodies from its invalid ones. The sandbox's own tests
cover XML bodies. Nothing else changes.
"""

import json
import sys

IGNORED_HEADERS = {"accept", "content-type", "authorization"}


def resolve(document, parameter):
    reference = parameter.get("$ref")
    if not reference:
        return parameter
    node = document
    for part in reference.lstrip("#/").split("/"):
        node = node[part]
    return node


def keep(document, parameter):
    parameter = resolve(document, parameter)
    return not (parameter.get("in") == "header" and parameter.get("name", "").lower() in IGNORED_HEADERS)


def main(source, target):
    with open(source, encoding="utf-8") as handle:
        document = json.load(handle)
    for item in document.get("paths", {}).values():
        for operation in [item, *item.values()]:
            if isinstance(operation, dict) and "parameters" in operation:
                operation["parameters"] = [p for p in operation["parameters"] if keep(document, p)]
            content = operation.get("requestBody", {}).get("content", {}) if isinstance(operation, dict) else {}
            if any(media.endswith("json") for media in content):
                for media in [m for m in content if m.endswith("xml")]:
                    del content[media]
    with open(target, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=1, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
