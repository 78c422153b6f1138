#!/usr/bin/env python3
"""Reads generated CloudFormation/SAM YAML with a YAML 1.1 parser (PyYAML, what cfn-lint and
many tools use) and a YAML 1.2 one (ruamel.yaml), and prints, as JSON, every `Resource` string
each parser reads: {FILE: {"yaml1.1": [...], "yaml1.2": [...]}}. The round-trip test compares
them with the policy JSON. Run from the project venv (scripts/test installs both parsers).

Usage: roundtrip-yaml.py FILE...
"""
import json
import sys

import yaml
from ruamel.yaml import YAML


def resources(node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "Resource":
                out.extend(v if isinstance(v, list) else [v])
            else:
                resources(v, out)
    elif isinstance(node, list):
        for v in node:
            resources(v, out)
    return out


result = {}
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    yaml12 = YAML(typ="safe", pure=True)
    result[path] = {
        "yaml1.1": resources(yaml.safe_load(text), []),
        "yaml1.2": resources(yaml12.load(text), []),
    }
json.dump(result, sys.stdout)
