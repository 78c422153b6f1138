#!/usr/bin/env python3
"""Lints generated policies with the tools reviewers use: parliament for IAM policy JSON, cfn-lint
for CloudFormation templates. Run from the project venv (scripts/test installs both).

Usage: lint-policies.py FILE...   (*.json: parliament; *.yaml: cfn-lint)

A parliament finding is an error when the policy is malformed or names something that does not
exist (unknown action, prefix, condition, resource mismatch) or its severity is HIGH or CRITICAL;
other findings (e.g. MEDIUM "possible privilege escalation" about what the role really did) are
printed but do not fail. Exit 1 on any error.
"""
import os
import subprocess
import sys

import parliament

ERROR_ISSUES = {
    "MALFORMED", "MALFORMED_JSON", "INVALID_ARN", "UNKNOWN_ACTION", "UNKNOWN_PREFIX", "UNKNOWN_OPERATOR",
    "UNKNOWN_CONDITION_FOR_ACTION", "MISMATCHED_TYPE", "RESOURCE_MISMATCH", "RESOURCE_STAR", "EXCEPTION",
    "UNKNOWN_FEDERATION_SOURCE", "UNKNOWN_PRINCIPAL",
}
failed = False
for path in sys.argv[1:]:
    if path.endswith((".yaml", ".yml")):
        cfn_lint = os.path.join(os.path.dirname(sys.executable), "cfn-lint")
        r = subprocess.run([cfn_lint, path], capture_output=True, text=True)
        print(f"cfn-lint {path}: {'clean' if r.returncode == 0 else 'FAILED'}")
        if r.returncode != 0:
            print(r.stdout + r.stderr)
            failed = True
        continue
    policy = parliament.analyze_policy_string(open(path).read())
    errors = [f for f in policy.findings if f.issue in ERROR_ISSUES or str(f.severity).upper() in ("HIGH", "CRITICAL")]
    others = [f for f in policy.findings if f not in errors]
    print(f"parliament {path}: {len(errors)} errors, {len(others)} other findings")
    for f in policy.findings:
        print(f"  {'ERROR' if f in errors else 'note '} {f.issue}: {f.detail}")
    failed |= bool(errors)
sys.exit(1 if failed else 0)
