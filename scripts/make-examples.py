#!/usr/bin/env python3
"""Writes examples/: a week of CloudTrail trail log files (S3 trail layout, gzipped) for a
dev-era role, `dev-app-role`, with management and data events, some failed calls, some
AccessDenied calls, and other principals' events that a run for the role must filter out.

Deterministic: the same script writes the same bytes (fixed seed, gzip mtime 0), so the
README's output stays true. Standard library only.

Then it writes examples-later/: the two weeks after (2026-10-08 to 10-21) of the same app, with
new dated object keys and log streams and a new Lambda version deployed by CI, and no new
behaviour: what `iamtrim replay` measures a policy learned on examples/ against.

Last, in examples/ too, the same week of `shared-lambda-role`: one role two Lambda functions
share (`orders-api` and `invoice-mailer`; Lambda's session name is the function name), which
`generate --split-by session` splits into one policy per function. It has its own random
sequence, written after the rest, so the files above keep their bytes.

Usage: python3 scripts/make-examples.py [OUT_DIR [LATER_DIR]]   (default: examples/ examples-later/)
"""
import gzip
import json
import os
import random
import sys
from datetime import datetime, timedelta, timezone

ACCOUNT = "123456789012"
ROLE = "dev-app-role"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
ROLE_ID = "AROA4EXAMPLEDEVAPP0001"
START = datetime(2026, 10, 1, tzinfo=timezone.utc)
DAYS = 7
LATER_DAYS = 14
rng = random.Random(20261001)


def uid():
    return "%08x-%04x-4%03x-%04x-%012x" % (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12), rng.getrandbits(16) | 0x8000 & 0xBFFF, rng.getrandbits(48))


def assumed_role(role=ROLE, role_id=ROLE_ID, session="dev-app-session"):
    return {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}",
        "accountId": ACCOUNT,
        "accessKeyId": "ASIA4EXAMPLE" + "%08X" % rng.getrandbits(32),
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "principalId": role_id, "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}", "accountId": ACCOUNT, "userName": role},
            "attributes": {"creationDate": "2026-10-01T00:00:00Z", "mfaAuthenticated": "false"},
        },
    }


def iam_user(name):
    return {"type": "IAMUser", "principalId": "AIDA4EXAMPLEALICE0001", "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}", "accountId": ACCOUNT, "accessKeyId": "AKIA4EXAMPLEALICE01", "userName": name}


def event(t, source, name, params, identity=None, region="us-east-1", resources=None, data=False, error=None, response=None, read_only=True, event_type="AwsApiCall"):
    e = {
        "eventVersion": "1.10",
        "userIdentity": identity or assumed_role(),
        "eventTime": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": "10.0.%d.%d" % (rng.randrange(256), rng.randrange(256)) if source != "s3.amazonaws.com" else "203.0.113.10",
        "userAgent": "aws-sdk-python/1.35.40 Python/3.12.6 Linux/6.1 Botocore/1.35.40",
        "requestParameters": params,
        "responseElements": response,
        "requestID": uid(),
        "eventID": uid(),
        "readOnly": read_only,
        "eventType": event_type,
        "managementEvent": not data,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Data" if data else "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": source.replace("amazonaws.com", region + ".amazonaws.com")},
    }
    if source == "s3.amazonaws.com" and identity is None:
        e["sourceIPAddress"] = "10.0.12.34"
        e["vpcEndpointId"] = S3_VPCE
    if identity is not None and identity.get("invokedBy"):
        e["sourceIPAddress"] = e["userAgent"] = identity["invokedBy"]
    if resources is not None:
        e["resources"] = resources
    if error:
        e["errorCode"], e["errorMessage"] = error
    return e


def s3_object(t, name, bucket, key, **kw):
    res = [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"}, {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]
    params = {"bucketName": bucket, "Host": f"{bucket}.s3.us-east-1.amazonaws.com", "key": key}
    params.update(kw.pop("extra", {}))
    return event(t, "s3.amazonaws.com", name, params, resources=res, data=True, **kw)


def ddb(t, name, table, extra=None, **kw):
    params = {"tableName": table}
    params.update(extra or {})
    res = [{"accountId": ACCOUNT, "type": "AWS::DynamoDB::Table", "ARN": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{table}"}]
    return event(t, "dynamodb.amazonaws.com", name, params, resources=res, data=True, **kw)


QUEUE = f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/dev-jobs"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:thumbnailer"
# The app runs in a VPC and reaches S3 through a gateway endpoint.
S3_VPCE = "vpce-0a1b2c3d4e5f60718"


def via_s3():
    """The role's identity on a call S3 makes with the role's credentials (SSE-KMS)."""
    identity = assumed_role()
    identity["invokedBy"] = "s3.amazonaws.com"
    return identity


def role_day(day):
    """The dev role's calls on one day."""
    out = []

    def at(h, m, s=0):
        return day + timedelta(hours=h, minutes=m, seconds=s)

    for i in range(6):
        h = 8 + i
        key = f"uploads/2026/10/{day.day:02d}/report-{i}.csv"
        out.append(s3_object(at(h, 2), "PutObject", "acme-dev-uploads", key, read_only=False, extra={"x-amz-server-side-encryption": "aws:kms"}))
        out.append(s3_object(at(h, 3), "GetObject", "acme-dev-uploads", key))
        out.append(s3_object(at(h, 4), "HeadObject", "acme-dev-uploads", key))
        out.append(event(at(h, 5), "kms.amazonaws.com", "GenerateDataKey", {"keyId": "alias/dev-app", "keySpec": "AES_256", "encryptionContext": {"aws:s3:arn": f"arn:aws:s3:::acme-dev-uploads/{key}"}},
                         identity=via_s3(), resources=[{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": KEY_ARN}]))
        out.append(event(at(h, 6), "kms.amazonaws.com", "Decrypt", {"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "encryptionContext": {"aws:s3:arn": f"arn:aws:s3:::acme-dev-uploads/{key}"}},
                         identity=via_s3(), resources=[{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": KEY_ARN}]))
        out.append(ddb(at(h, 7), "PutItem", "dev-orders", {"key": {"orderId": f"o-{day.day}-{i}"}}, read_only=False))
        out.append(ddb(at(h, 8), "GetItem", "dev-orders", {"key": {"orderId": f"o-{day.day}-{i}"}, "consistentRead": False}))
        out.append(ddb(at(h, 9), "Query", "dev-orders", {"indexName": "by-customer", "keyConditionExpression": "customerId = :c", "limit": 25}))
        out.append(event(at(h, 10), "sqs.amazonaws.com", "SendMessage", {"queueUrl": QUEUE, "messageBody": "HIDDEN_DUE_TO_SECURITY_REASONS"}, data=True, read_only=False,
                         resources=[{"accountId": ACCOUNT, "type": "AWS::SQS::Queue", "ARN": f"arn:aws:sqs:us-east-1:{ACCOUNT}:dev-jobs"}]))
        out.append(event(at(h, 11), "sqs.amazonaws.com", "ReceiveMessage", {"queueUrl": QUEUE, "maxNumberOfMessages": 10, "waitTimeSeconds": 20}, data=True,
                         resources=[{"accountId": ACCOUNT, "type": "AWS::SQS::Queue", "ARN": f"arn:aws:sqs:us-east-1:{ACCOUNT}:dev-jobs"}]))
        out.append(event(at(h, 12), "sqs.amazonaws.com", "DeleteMessageBatch", {"queueUrl": QUEUE, "entries": [{"id": "0", "receiptHandle": "HIDDEN_DUE_TO_SECURITY_REASONS"}]}, data=True, read_only=False,
                         resources=[{"accountId": ACCOUNT, "type": "AWS::SQS::Queue", "ARN": f"arn:aws:sqs:us-east-1:{ACCOUNT}:dev-jobs"}]))
        out.append(event(at(h, 13), "lambda.amazonaws.com", "Invoke", {"functionName": FUNCTION_ARN, "invocationType": "Event"}, data=True, read_only=False,
                         resources=[{"accountId": ACCOUNT, "type": "AWS::Lambda::Function", "ARN": FUNCTION_ARN}]))
    # Management calls, a few a day.
    out.append(s3_object(at(7, 30), "ListObjects", "acme-dev-uploads", "", extra={"prefix": "uploads/", "delimiter": "/"}))
    out[-1]["resources"] = [{"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::acme-dev-uploads"}]
    del out[-1]["requestParameters"]["key"]
    out.append(event(at(7, 31), "s3.amazonaws.com", "GetBucketLocation", {"bucketName": "acme-dev-uploads", "Host": "acme-dev-uploads.s3.amazonaws.com", "location": ""},
                     resources=[{"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::acme-dev-uploads"}]))
    out.append(event(at(7, 32), "sts.amazonaws.com", "GetCallerIdentity", None))
    out.append(event(at(7, 33), "ssm.amazonaws.com", "GetParameter", {"name": "/dev/app/database-url", "withDecryption": True}))
    out.append(event(at(7, 34), "ssm.amazonaws.com", "GetParametersByPath", {"path": "/dev/app/feature-flags", "recursive": True, "withDecryption": False}))
    out.append(event(at(7, 35), "secretsmanager.amazonaws.com", "GetSecretValue", {"secretId": "dev/app/stripe-api-key"}))
    out.append(event(at(7, 36), "lambda.amazonaws.com", "GetFunction20150331v2", {"functionName": "thumbnailer"}))
    out.append(event(at(7, 37), "dynamodb.amazonaws.com", "DescribeTable", {"tableName": "dev-orders"}))
    out.append(event(at(7, 38), "sqs.amazonaws.com", "GetQueueAttributes", {"queueUrl": QUEUE, "attributeNames": ["ApproximateNumberOfMessages"]}))
    out.append(event(at(7, 39), "logs.amazonaws.com", "CreateLogStream", {"logGroupName": "/dev/app", "logStreamName": f"2026/10/{day.day:02d}/app"}, read_only=False))
    out.append(event(at(7, 40), "logs.amazonaws.com", "DescribeLogStreams", {"logGroupName": "/dev/app", "logStreamNamePrefix": "2026/10/"}))
    # Nightly archive copy.
    src = f"uploads/2026/10/{day.day:02d}/report-0.csv"
    out.append(s3_object(at(23, 50), "CopyObject", "acme-dev-archive", f"archive/2026/10/{day.day:02d}/report-0.csv", read_only=False,
                         extra={"x-amz-copy-source": f"acme-dev-uploads/{src}"}))
    # Failed calls that still prove the permission was used.
    out.append(s3_object(at(9, 45), "GetObject", "acme-dev-uploads", f"uploads/2026/10/{day.day:02d}/missing.csv", error=("NoSuchKey", "The specified key does not exist.")))
    out.append(ddb(at(9, 46), "PutItem", "dev-orders", {"key": {"orderId": "o-dup"}, "conditionExpression": "attribute_not_exists(orderId)"}, read_only=False,
                   error=("ConditionalCheckFailedException", "The conditional request failed")))
    # Calls the role is refused: reported as denied, never granted.
    if day.day % 2 == 1:
        out.append(s3_object(at(10, 30), "DeleteObject", "acme-dev-uploads", f"uploads/2026/10/{day.day:02d}/report-1.csv", read_only=False,
                             error=("AccessDenied", f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/dev-app-session is not authorized to perform: s3:DeleteObject")))
    if day.day == 3:
        out.append(event(at(11, 0), "iam.amazonaws.com", "ListRoles", None, error=("AccessDenied", f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/dev-app-session is not authorized to perform: iam:ListRoles on resource: arn:aws:iam::{ACCOUNT}:role/")))
        out.append(event(at(11, 1), "ec2.amazonaws.com", "DescribeInstances", {"instancesSet": {}, "filterSet": {}}, error=("Client.UnauthorizedOperation", "You are not authorized to perform this operation.")))
    return out


def others_day(day):
    """Other principals' calls on the same day: a CI role, a human user, AWS services."""
    out = []
    ci = assumed_role("ci-deploy-role", "AROA4EXAMPLECIDEPLOY01", "github-actions")
    t = day + timedelta(hours=14)
    out.append(event(t, "cloudformation.amazonaws.com", "UpdateStack", {"stackName": "dev-app", "capabilities": ["CAPABILITY_IAM"]}, identity=ci, read_only=False))
    out.append(event(t + timedelta(minutes=1), "s3.amazonaws.com", "PutObject", {"bucketName": "acme-dev-artifacts", "key": "builds/app.zip"}, identity=ci, read_only=False, data=True,
                     resources=[{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::acme-dev-artifacts/builds/app.zip"}]))
    out.append(event(t + timedelta(minutes=2), "lambda.amazonaws.com", "UpdateFunctionCode20150331v2", {"functionName": "thumbnailer", "s3Bucket": "acme-dev-artifacts", "s3Key": "builds/app.zip"}, identity=ci, read_only=False))
    if day >= START + timedelta(days=DAYS) and day.weekday() == 0:
        # The later weeks: CI publishes a new version of the function each Monday.
        out.append(event(t + timedelta(minutes=3), "lambda.amazonaws.com", "PublishVersion20150331", {"functionName": "thumbnailer", "description": f"build {day:%Y%m%d}"}, identity=ci, read_only=False,
                         response={"functionName": "thumbnailer", "version": str((day - START).days // 7 + 1)}))
    alice = iam_user("alice")
    out.append(event(day + timedelta(hours=16), "s3.amazonaws.com", "ListBuckets", {"Host": "s3.amazonaws.com"}, identity=alice))
    out.append(event(day + timedelta(hours=16, minutes=5), "iam.amazonaws.com", "GetRole", {"roleName": ROLE}, identity=alice))
    svc = {"type": "AWSService", "invokedBy": "dynamodb.amazonaws.com"}
    out.append(event(day + timedelta(hours=3), "kms.amazonaws.com", "Decrypt", None, identity=svc, event_type="AwsServiceEvent",
                     resources=[{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": KEY_ARN}]))
    return out


SHARED = "shared-lambda-role"
SHARED_ID = "AROA4EXAMPLESHARED001"
LAMBDA_UA = "Boto3/1.35.40 md/Botocore#1.35.40 ua/2.0 os/linux#5.10.226 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.35.40"
INVOICE_QUEUE = f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/invoice-jobs"


def shared_day(day):
    """The shared role's calls on one day: orders-api writes orders and queues invoices;
    invoice-mailer takes the jobs, stores the PDF and mails it. Both write their logs."""
    out = []

    def call(fn, t, source, name, params, **kw):
        e = event(t, source, name, params, identity=assumed_role(SHARED, SHARED_ID, fn), **kw)
        e["userAgent"] = LAMBDA_UA
        out.append(e)

    for hour in (9, 13, 17):
        t = day + timedelta(hours=hour, minutes=rng.randrange(50))
        n = rng.randrange(1000, 9999)
        call("orders-api", t, "logs.amazonaws.com", "CreateLogStream", {"logGroupName": "/aws/lambda/orders-api", "logStreamName": f"{day:%Y/%m/%d}/[$LATEST]{rng.getrandbits(64):016x}"}, read_only=False)
        for k in range(2):
            tk = t + timedelta(seconds=5 + k)
            res = [{"accountId": ACCOUNT, "type": "AWS::DynamoDB::Table", "ARN": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"}]
            call("orders-api", tk, "dynamodb.amazonaws.com", "PutItem", {"tableName": "orders", "key": {"id": {"S": f"o-{n + k}"}}}, resources=res, data=True, read_only=False)
            call("orders-api", tk, "dynamodb.amazonaws.com", "GetItem", {"tableName": "orders", "key": {"id": {"S": f"o-{n + k}"}}}, resources=res, data=True)
            call("orders-api", tk, "sqs.amazonaws.com", "SendMessage", {"queueUrl": INVOICE_QUEUE, "messageBody": "HIDDEN_DUE_TO_SECURITY_REASONS"}, data=True, read_only=False)
        t2 = t + timedelta(minutes=2)
        call("invoice-mailer", t2, "logs.amazonaws.com", "CreateLogStream", {"logGroupName": "/aws/lambda/invoice-mailer", "logStreamName": f"{day:%Y/%m/%d}/[$LATEST]{rng.getrandbits(64):016x}"}, read_only=False)
        call("invoice-mailer", t2, "sqs.amazonaws.com", "ReceiveMessage", {"queueUrl": INVOICE_QUEUE, "maxNumberOfMessages": 10}, data=True)
        for k in range(2):
            tk = t2 + timedelta(seconds=10 + k)
            key = f"invoices/{day:%Y/%m/%d}/o-{n + k}.pdf"
            e = s3_object(tk, "PutObject", "acme-invoices", key, read_only=False)
            e["userIdentity"] = assumed_role(SHARED, SHARED_ID, "invoice-mailer")
            e["userAgent"] = LAMBDA_UA
            e.pop("vpcEndpointId", None)
            out.append(e)
            call("invoice-mailer", tk, "ses.amazonaws.com", "SendEmail", {"source": "billing@example.com", "destination": {"toAddresses": ["HIDDEN_DUE_TO_SECURITY_REASONS"]}}, read_only=False)
            call("invoice-mailer", tk, "sqs.amazonaws.com", "DeleteMessage", {"queueUrl": INVOICE_QUEUE, "receiptHandle": "HIDDEN"}, data=True, read_only=False)
    return out


def write(out_dir, first_day=0, days=DAYS, day_events=None):
    files = 0
    for d in range(first_day, first_day + days):
        day = START + timedelta(days=d)
        events = sorted((day_events or (lambda day: role_day(day) + others_day(day)))(day), key=lambda e: e["eventTime"])
        # CloudTrail writes a file about every 5 minutes per region; group events into hourly files
        # here to keep the example small, named by their delivery time (5 minutes after the last event).
        buckets = {}
        for e in events:
            t = datetime.strptime(e["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            slot = t.replace(minute=0, second=0)
            buckets.setdefault((e["awsRegion"], slot), []).append(e)
        for (region, slot), evs in sorted(buckets.items()):
            delivered = max(datetime.strptime(e["eventTime"], "%Y-%m-%dT%H:%M:%SZ") for e in evs) + timedelta(minutes=5)
            delivered = delivered.replace(tzinfo=timezone.utc)
            folder = os.path.join(out_dir, "AWSLogs", ACCOUNT, "CloudTrail", region, f"{delivered:%Y}", f"{delivered:%m}", f"{delivered:%d}")
            os.makedirs(folder, exist_ok=True)
            name = f"{ACCOUNT}_CloudTrail_{region}_{delivered:%Y%m%dT%H%MZ}_{rng.getrandbits(64):016X}.json.gz"
            body = json.dumps({"Records": evs}, separators=(",", ":")).encode()
            with open(os.path.join(folder, name), "wb") as f:
                with gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as gz:
                    gz.write(body)
            files += 1
    return files


if __name__ == "__main__":
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "examples")
    later = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, "examples-later")
    # The first week first: the later weeks continue the same random sequence, so examples/ is
    # byte for byte what it was before they existed.
    n = write(out)
    print(f"wrote {n} trail files under {out}", file=sys.stderr)
    n = write(later, DAYS, LATER_DAYS)
    print(f"wrote {n} trail files under {later}", file=sys.stderr)
    rng = random.Random(20261002)
    n = write(out, 0, DAYS, shared_day)
    print(f"wrote {n} trail files of {SHARED} under {out}", file=sys.stderr)
