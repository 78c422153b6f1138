#!/usr/bin/env python3
"""Runs iamtrim's Athena query for real, on DuckDB (an embedded SQL engine), over CloudTrail
trail files loaded into a table shaped like the one the Athena documentation creates (lower-case
columns, `useridentity` and `resources` structs, `requestparameters` a JSON string, a `timestamp`
partition column `yyyy/MM/dd` from the file's path). It proves the SQL filters and groups
correctly; its rows then stand in for Athena's (moto's Athena does not run queries).

Dialect differences, translated here and nowhere else:
  - Trino's `array_join(array, sep)` is DuckDB's `array_to_string(list, sep)`;
  - Trino's `transform(array, x -> f(x))` is DuckDB's `list_transform(list, x -> f(x))`.
Everything else (quoted identifiers, struct field access, string comparison of ISO times,
GROUP BY / ORDER BY ordinals, count/min/max) is the same in both.

Usage:
  athena-duckdb.py --sql FILE --logs DIR [--seed-moto URL] [--athena-rows FILE] [--lake-rows FILE] [--print]
    --seed-moto URL   queue the rows (header first, as Athena returns them) as the next Athena
                      query result of the moto server at URL
    --athena-rows FILE  write the result set as Athena's GetQueryResults would (header row first,
                      ResultSetMetadata.ColumnInfo), for a fake that pages it
    --lake-rows FILE  write the rows as CloudTrail Lake's GetQueryResults QueryResultRows
                      (a list of rows, each a list of one-entry {column: value} maps)
"""
import argparse
import gzip
import json
import os
import re
import sys
import tempfile
import urllib.request

import duckdb

COLUMNS = """
  eventversion VARCHAR,
  useridentity STRUCT(type VARCHAR, principalid VARCHAR, arn VARCHAR, accountid VARCHAR, invokedby VARCHAR, username VARCHAR,
    sessioncontext STRUCT(sessionissuer STRUCT(type VARCHAR, principalid VARCHAR, arn VARCHAR, accountid VARCHAR, username VARCHAR))),
  eventtime VARCHAR, eventsource VARCHAR, eventname VARCHAR, awsregion VARCHAR, errorcode VARCHAR,
  requestparameters VARCHAR, resources STRUCT(arn VARCHAR, accountid VARCHAR, type VARCHAR)[],
  eventtype VARCHAR, recipientaccountid VARCHAR, vpcendpointid VARCHAR, useragent VARCHAR, sourceipaddress VARCHAR,
  "timestamp" VARCHAR
"""


def lower_keys(v):
    """Athena's JSON SerDe matches JSON keys to columns case-insensitively."""
    if isinstance(v, dict):
        return {k.lower(): lower_keys(x) for k, x in v.items()}
    if isinstance(v, list):
        return [lower_keys(x) for x in v]
    return v


def athena_row(rec, day):
    ui = lower_keys(rec.get("userIdentity") or {})
    issuer = (ui.get("sessioncontext") or {}).get("sessionissuer")
    return {
        "eventversion": rec.get("eventVersion"),
        "useridentity": {
            "type": ui.get("type"), "principalid": ui.get("principalid"), "arn": ui.get("arn"), "accountid": ui.get("accountid"),
            "invokedby": ui.get("invokedby"), "username": ui.get("username"),
            "sessioncontext": {"sessionissuer": issuer} if issuer else None,
        },
        "eventtime": rec.get("eventTime"), "eventsource": rec.get("eventSource"), "eventname": rec.get("eventName"),
        "awsregion": rec.get("awsRegion"), "errorcode": rec.get("errorCode"),
        # A STRING column holding the object's JSON text, as the SerDe keeps it.
        "requestparameters": None if rec.get("requestParameters") is None else json.dumps(rec["requestParameters"], separators=(",", ":")),
        "resources": [{"arn": r.get("ARN"), "accountid": r.get("accountId"), "type": r.get("type")} for r in rec.get("resources") or []] or None,
        "eventtype": rec.get("eventType"), "recipientaccountid": rec.get("recipientAccountId"), "vpcendpointid": rec.get("vpcEndpointId"),
        "useragent": rec.get("userAgent"), "sourceipaddress": rec.get("sourceIPAddress"),
        "timestamp": day,
    }


def load(logs, out):
    n = 0
    for root, _, files in os.walk(logs):
        for f in sorted(files):
            if not f.endswith(".json.gz"):
                continue
            m = re.search(r"/(\d{4})/(\d{2})/(\d{2})$", root)
            day = "/".join(m.groups()) if m else None
            with gzip.open(os.path.join(root, f), "rt", encoding="utf-8") as fh:
                for rec in json.load(fh).get("Records", []):
                    out.write(json.dumps(athena_row(rec, day)) + "\n")
                    n += 1
    return n


def to_duckdb(sql):
    return sql.replace("array_join(", "array_to_string(").replace("transform(", "list_transform(")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sql", required=True)
    ap.add_argument("--logs", required=True)
    ap.add_argument("--seed-moto")
    ap.add_argument("--athena-rows")
    ap.add_argument("--lake-rows")
    ap.add_argument("--print", action="store_true")
    a = ap.parse_args()
    sql = open(a.sql, encoding="utf-8").read()
    m = re.search(r'FROM "([^"]+)"\."([^"]+)"', sql)
    if not m:
        sys.exit("athena-duckdb.py: the SQL has no FROM \"db\".\"table\"")
    db, table = m.groups()
    con = duckdb.connect()
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as tmp:
        records = load(a.logs, tmp)
    con.execute(f'CREATE SCHEMA "{db}"')
    columns = ", ".join(f"'{c.split(None, 1)[0].strip(chr(34))}': '{' '.join(c.split(None, 1)[1].split())}'" for c in split_columns(COLUMNS))
    con.execute(f'CREATE TABLE "{db}"."{table}" AS SELECT * FROM read_json(?, format=\'newline_delimited\', columns={{{columns}}})', [tmp.name])
    os.unlink(tmp.name)
    cur = con.execute(to_duckdb(sql))
    names = [d[0] for d in cur.description]
    rows = [[None if v is None else str(v) for v in r] for r in cur.fetchall()]
    print(f"athena-duckdb.py: {records} records loaded, {len(rows)} rows, {sum(int(r[names.index('calls')]) for r in rows)} calls", file=sys.stderr)
    if a.print:
        for r in rows:
            print("\t".join("NULL" if v is None else v for v in r))
    def cell(v):
        return {} if v is None else {"VarCharValue": v}
    result = {
        "rows": [{"Data": [cell(n) for n in names]}] + [{"Data": [cell(v) for v in r]} for r in rows],
        "column_info": [{"CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": n, "Label": n, "Type": "varchar", "Precision": 0, "Scale": 0, "Nullable": "UNKNOWN", "CaseSensitive": True} for n in names],
    }
    if a.athena_rows:
        with open(a.athena_rows, "w", encoding="utf-8") as f:
            json.dump(result, f)
    if a.seed_moto:
        body = json.dumps({"results": [result]}).encode()
        req = urllib.request.Request(a.seed_moto.rstrip("/") + "/moto-api/static/athena/query-results", data=body, method="POST", headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req).read()
    if a.lake_rows:
        with open(a.lake_rows, "w", encoding="utf-8") as f:
            json.dump([[{n: v} for n, v in zip(names, r) if v is not None] for r in rows], f)


def split_columns(spec):
    """Top-level comma split of a column list (commas inside STRUCT(...) kept)."""
    out, depth, cur = [], 0, ""
    for ch in spec:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


if __name__ == "__main__":
    main()
