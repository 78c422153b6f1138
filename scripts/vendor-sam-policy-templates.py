#!/usr/bin/env python3
"""Writes action-maps/sam-policy-templates.json: AWS SAM's policy templates (S3ReadPolicy,
DynamoDBCrudPolicy, ...), taken unchanged from the PyPI package aws-sam-translator (the SAM
translator AWS publishes; Apache License 2.0, licenses/aws-sam-translator.LICENSE.txt), with an
`about` entry. iamtrim expands a SAM function's policy templates with them.

  scripts/vendor-sam-policy-templates.py [VERSION]

Downloads the wheel with pip (no install), reads
samtranslator/policy_templates_data/policy_templates.json from it and writes the table.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile

VERSION = sys.argv[1] if len(sys.argv) > 1 else "1.115.0"
MEMBER = "samtranslator/policy_templates_data/policy_templates.json"
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "action-maps", "sam-policy-templates.json")

with tempfile.TemporaryDirectory() as d:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", d,
                    f"aws-sam-translator=={VERSION}"], check=True)
    wheel = next(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".whl"))
    raw = zipfile.ZipFile(wheel).read(MEMBER)
data = json.loads(raw)
table = {
    "about": (
        f"AWS SAM policy templates, taken unchanged from the PyPI package aws-sam-translator {VERSION} "
        f"({MEMBER}, SHA-256 {hashlib.sha256(raw).hexdigest()}), Apache License 2.0, Copyright Amazon.com, "
        "Inc. or its affiliates (licenses/aws-sam-translator.LICENSE.txt). Written by "
        "scripts/vendor-sam-policy-templates.py. iamtrim expands a SAM function's Policies entry "
        "{TemplateName: {Parameter: value}} into the template's Definition, its Ref and Fn::Sub "
        "of the parameters and of the pseudo parameters resolved as in the rest of the template."
    ),
    "Version": data["Version"],
    "Templates": data["Templates"],
}
with open(OUT, "w") as f:
    json.dump(table, f, indent=1, sort_keys=True)
    f.write("\n")
print(f"wrote {OUT}: {len(data['Templates'])} templates", file=sys.stderr)
