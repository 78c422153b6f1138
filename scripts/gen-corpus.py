#!/usr/bin/env python3
"""Writes a benchmark corpus of realistic CloudTrail trail files: many principals, many
services, management and data events, in the S3 trail layout, gzipped, about 1 MB of JSON per
file (a typical trail object).

Usage: python3 scripts/gen-corpus.py --mb 600 OUT_DIR

Deterministic for a given --mb. Prints the uncompressed size written. Standard library only.
"""
import argparse
import gzip
import json
import os
import random
from datetime import datetime, timedelta, timezone

ACCOUNT = "123456789012"
REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]


def make_templates():
    """(eventSource, eventName, requestParameters builder, resources builder, data event)."""
    def s3obj(b, k):
        return [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{b}/{k}"}, {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{b}"}]

    def table(r, t):
        return [{"accountId": ACCOUNT, "type": "AWS::DynamoDB::Table", "ARN": f"arn:aws:dynamodb:{r}:{ACCOUNT}:table/{t}"}]

    return [
        ("s3.amazonaws.com", "GetObject", lambda g, r: {"bucketName": f"bucket-{g.randrange(20)}", "Host": "s3.amazonaws.com", "key": f"data/{g.randrange(100)}/obj-{g.randrange(10**6)}.parquet"}, lambda p, r: s3obj(p["bucketName"], p["key"]), True),
        ("s3.amazonaws.com", "PutObject", lambda g, r: {"bucketName": f"bucket-{g.randrange(20)}", "Host": "s3.amazonaws.com", "key": f"upload/{g.randrange(100)}/obj-{g.randrange(10**6)}.json"}, lambda p, r: s3obj(p["bucketName"], p["key"]), True),
        ("s3.amazonaws.com", "HeadObject", lambda g, r: {"bucketName": f"bucket-{g.randrange(20)}", "Host": "s3.amazonaws.com", "key": f"data/{g.randrange(100)}/obj-{g.randrange(10**6)}.parquet"}, lambda p, r: s3obj(p["bucketName"], p["key"]), True),
        ("s3.amazonaws.com", "ListObjects", lambda g, r: {"bucketName": f"bucket-{g.randrange(20)}", "prefix": "data/", "Host": "s3.amazonaws.com"}, lambda p, r: [{"type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{p['bucketName']}"}], True),
        ("dynamodb.amazonaws.com", "GetItem", lambda g, r: {"tableName": f"table-{g.randrange(30)}", "key": {"pk": f"id-{g.randrange(10**6)}"}}, lambda p, r: table(r, p["tableName"]), True),
        ("dynamodb.amazonaws.com", "PutItem", lambda g, r: {"tableName": f"table-{g.randrange(30)}", "key": {"pk": f"id-{g.randrange(10**6)}"}}, lambda p, r: table(r, p["tableName"]), True),
        ("dynamodb.amazonaws.com", "Query", lambda g, r: {"tableName": f"table-{g.randrange(30)}", "indexName": "gsi1", "limit": 100}, lambda p, r: table(r, p["tableName"]), True),
        ("kms.amazonaws.com", "Decrypt", lambda g, r: {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}, lambda p, r: [{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": f"arn:aws:kms:{r}:{ACCOUNT}:key/0000000{random.randrange(10)}-1111-2222-3333-444444444444"}], False),
        ("kms.amazonaws.com", "GenerateDataKey", lambda g, r: {"keyId": "alias/app", "keySpec": "AES_256"}, lambda p, r: [{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": f"arn:aws:kms:{r}:{ACCOUNT}:key/00000001-1111-2222-3333-444444444444"}], False),
        ("sqs.amazonaws.com", "SendMessage", lambda g, r: {"queueUrl": f"https://sqs.{r}.amazonaws.com/{ACCOUNT}/queue-{g.randrange(10)}", "messageBody": "HIDDEN_DUE_TO_SECURITY_REASONS"}, lambda p, r: None, True),
        ("sqs.amazonaws.com", "ReceiveMessage", lambda g, r: {"queueUrl": f"https://sqs.{r}.amazonaws.com/{ACCOUNT}/queue-{g.randrange(10)}", "maxNumberOfMessages": 10}, lambda p, r: None, True),
        ("lambda.amazonaws.com", "Invoke", lambda g, r: {"functionName": f"arn:aws:lambda:{r}:{ACCOUNT}:function:fn-{g.randrange(15)}"}, lambda p, r: [{"accountId": ACCOUNT, "type": "AWS::Lambda::Function", "ARN": p["functionName"]}], True),
        ("sts.amazonaws.com", "AssumeRole", lambda g, r: {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/role-{g.randrange(50)}", "roleSessionName": "s"}, lambda p, r: None, False),
        ("sts.amazonaws.com", "GetCallerIdentity", lambda g, r: None, lambda p, r: None, False),
        ("ec2.amazonaws.com", "DescribeInstances", lambda g, r: {"instancesSet": {}, "filterSet": {}}, lambda p, r: None, False),
        ("logs.amazonaws.com", "CreateLogStream", lambda g, r: {"logGroupName": f"/aws/lambda/fn-{g.randrange(15)}", "logStreamName": f"2026/10/01/[$LATEST]{g.randrange(10**8):x}"}, lambda p, r: None, False),
        ("ssm.amazonaws.com", "GetParameter", lambda g, r: {"name": f"/app/{g.randrange(40)}/setting", "withDecryption": True}, lambda p, r: None, False),
        ("secretsmanager.amazonaws.com", "GetSecretValue", lambda g, r: {"secretId": f"app/secret-{g.randrange(10)}"}, lambda p, r: None, False),
        ("iam.amazonaws.com", "GetRole", lambda g, r: {"roleName": f"role-{g.randrange(50)}"}, lambda p, r: None, False),
        ("monitoring.amazonaws.com", "PutMetricData", lambda g, r: {"namespace": "App"}, lambda p, r: None, False),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=600)
    ap.add_argument("--file-mb", type=float, default=1.0)
    ap.add_argument("out")
    a = ap.parse_args()
    g = random.Random(a.mb)
    random.seed(a.mb)
    templates = make_templates()
    roles = [f"role-{i}" for i in range(50)]
    target = a.mb * 1_000_000
    written = 0
    files = 0
    t = datetime(2026, 10, 1, tzinfo=timezone.utc)
    while written < target:
        region = REGIONS[files % len(REGIONS)]
        records = []
        size = 2
        while size < a.file_mb * 1_000_000:
            t += timedelta(milliseconds=g.randrange(50, 400))
            src, name, params, res, data = templates[g.randrange(len(templates))]
            role = roles[min(int(g.expovariate(0.15)), len(roles) - 1)]
            p = params(g, region)
            rec = {
                "eventVersion": "1.10",
                "userIdentity": {
                    "type": "AssumedRole", "principalId": f"AROA{role.upper():0>17}:session-{g.randrange(100)}",
                    "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/session-{g.randrange(100)}", "accountId": ACCOUNT,
                    "accessKeyId": f"ASIA{g.randrange(16**12):012X}",
                    "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": f"AROA{role.upper():0>17}", "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}", "accountId": ACCOUNT, "userName": role},
                                       "attributes": {"creationDate": "2026-10-01T00:00:00Z", "mfaAuthenticated": "false"}},
                },
                "eventTime": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "eventSource": src, "eventName": name, "awsRegion": region,
                "sourceIPAddress": f"10.{g.randrange(256)}.{g.randrange(256)}.{g.randrange(256)}",
                "userAgent": "aws-sdk-java/2.20.162 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.8+7-LTS Java/17.0.8 vendor/Amazon.com_Inc.",
                "requestParameters": p, "responseElements": None,
                "requestID": f"{g.randrange(16**32):032x}", "eventID": f"{g.randrange(16**32):032x}",
                "readOnly": name.startswith(("Get", "List", "Describe", "Head", "Query")),
                "eventType": "AwsApiCall", "managementEvent": not data, "recipientAccountId": ACCOUNT,
                "eventCategory": "Data" if data else "Management",
                "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": f"{src.split('.')[0]}.{region}.amazonaws.com"},
            }
            r = res(p, region) if p is not None else None
            if r:
                rec["resources"] = r
            if g.random() < 0.02:
                rec["errorCode"], rec["errorMessage"] = "AccessDenied", "not authorized"
            line = json.dumps(rec, separators=(",", ":"))
            records.append(line)
            size += len(line) + 1
        body = ('{"Records":[' + ",".join(records) + "]}").encode()
        folder = os.path.join(a.out, "AWSLogs", ACCOUNT, "CloudTrail", region, f"{t:%Y}", f"{t:%m}", f"{t:%d}")
        os.makedirs(folder, exist_ok=True)
        delivered = t + timedelta(minutes=5)
        path = os.path.join(folder, f"{ACCOUNT}_CloudTrail_{region}_{delivered:%Y%m%dT%H%MZ}_{files:016X}.json.gz")
        with open(path, "wb") as f:
            with gzip.GzipFile(fileobj=f, mode="wb", mtime=0, compresslevel=6, filename="") as gz:
                gz.write(body)
        written += len(body)
        files += 1
    print(f"{files} files, {written / 1e6:.0f} MB uncompressed under {a.out}")


if __name__ == "__main__":
    main()
