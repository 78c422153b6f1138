#!/usr/bin/env python3
"""Validates JSON documents against a JSON Schema, for the tests of iamtrim's outputs.

  validate-json.py --sarif FILE...          against the SARIF 2.1.0 schema vendored in
                                            tests/schemas/sarif-schema-2.1.0.json (the OASIS schema;
                                            origin and notice in licenses/sarif-2.1.0.NOTICE.txt)
  validate-json.py --schema SCHEMA FILE...  against SCHEMA (e.g. docs/audit.schema.json)

Prints one line per error (the JSON path and the message) and exits 1 when any document is
invalid.
"""
import json
import os
import sys

import jsonschema


def sarif_schema():
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "tests", "schemas", "sarif-schema-2.1.0.json")
    schema = json.load(open(path))
    assert "2.1.0" in schema.get("$id", ""), schema.get("$id")
    return schema


def main(argv):
    if len(argv) >= 2 and argv[0] == "--sarif":
        schema, files = sarif_schema(), argv[1:]
    elif len(argv) >= 3 and argv[0] == "--schema":
        schema, files = json.load(open(argv[1])), argv[2:]
    else:
        sys.exit(__doc__)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)
    bad = 0
    for f in files:
        doc = json.load(open(f))
        for e in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
            print(f"{f}: {'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}")
            bad += 1
    print(f"validate-json.py: {len(files)} document(s), {bad} error(s)", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
