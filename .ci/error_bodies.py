"""Independent cross-check of openapi/bundled.json: real error bodies of both
JSON shapes must validate against every JSON error response, with the OpenAPI
3.0 semantics of openapi-schema-validator (a response is read, so required
read-only properties count). `cargo xtask regen` checks the same with the
Rust jsonschema crate; this runs a second implementation in CI."""

import json
import sys

from openapi_schema_validator import OAS30ReadValidator

BODIES = [
    {
        "errorSummary": "Your request was malformed and could not be processed by the server. Please try again",
        "errorText": "Bad Request",
        "errorDetail": "java.io.EOFException: No content to map to Object due to end of input",
    },
    {
        "status": 400,
        "message": "Client specified an invalid argument, request body or query param",
        "detail": "The authenticationId is no longer valid",
    },
]


def main(path):
    with open(path, encoding="utf-8") as file:
        spec = json.load(file)
    checked, problems = 0, []
    for route, item in spec["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, response in operation["responses"].items():
                if not status.isdigit() or int(status) < 400:
                    continue
                if "$ref" in response:
                    response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if schema is None:
                    continue
                root = {"allOf": [schema], "components": spec["components"]}
                for body in BODIES:
                    checked += 1
                    for error in OAS30ReadValidator(root).iter_errors(body):
                        problems.append(f"{operation['operationId']} {status}: {error.message}")
    for problem in problems:
        print(problem)
    print(f"{checked} error bodies checked against {path}, {len(problems)} rejected")
    return 1 if problems or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
