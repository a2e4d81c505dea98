"""Writes the spec schemathesis tests: openapi/bundled.json as OpenAPI reads it.

OpenAPI 3.0 says header parameters named Accept, Content-Type or
Authorization SHALL be ignored (the media types come from the request and
response `content`, credentials from `security`). The project's spec
declares them for the generator; schemathesis would treat them as real
parameters, so they are dropped here.

XML request bodies are dropped too where a JSON one is offered: schemathesis
writes an empty string and an empty object alike (`<a></a>`), so no server
can tell its valid XML bodies from its invalid ones. The sandbox's own tests
cover XML bodies.

Links from each create to the reads, updates and deletes of what it
created (by the `id` of the 201 body) let schemathesis's stateful phase
work on resources that exist. Nothing else changes.
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


METHODS = ("get", "put", "post", "delete")


def add_links(document):
    """Links a 201 with an `id` in its body to the operations on that item."""
    paths = document.get("paths", {})
    for path, item in paths.items():
        created = item.get("post", {}).get("responses", {}).get("201")
        if not created or not created.get("content"):
            continue
        for item_path, item_item in paths.items():
            prefix, _, last = item_path.rpartition("/")
            if prefix != path or not (last.startswith("{") and last.endswith("}")):
                continue
            links = created.setdefault("links", {})
            for method in METHODS:
                operation = item_item.get(method)
                if not operation:
                    continue
                parameters = {last[1:-1]: "$response.body#/id"}
                if "{workspaceId}" in path:
                    parameters["workspaceId"] = "$request.path.workspaceId"
                links[operation["operationId"]] = {
                    "operationId": operation["operationId"],
                    "parameters": parameters,
                }


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
    add_links(document)
    with open(target, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=1, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
