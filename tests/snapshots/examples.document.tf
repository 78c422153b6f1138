data "aws_iam_policy_document" "dev_app_role" {
  statement {
    sid    = "DynamodbReadWrite"
    effect = "Allow"
    actions = [
      "dynamodb:DescribeTable",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
    ]
    resources = [
      "arn:aws:dynamodb:us-east-1:123456789012:table/dev-orders",
    ]
  }

  statement {
    sid    = "DynamodbRead"
    effect = "Allow"
    actions = [
      "dynamodb:Query",
    ]
    resources = [
      "arn:aws:dynamodb:us-east-1:123456789012:table/dev-orders/index/by-customer",
    ]
  }

  statement {
    sid    = "KmsWrite"
    effect = "Allow"
    actions = [
      "kms:Decrypt",
      "kms:GenerateDataKey",
    ]
    resources = [
      "arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    ]
  }

  statement {
    sid    = "LambdaReadWrite"
    effect = "Allow"
    actions = [
      "lambda:GetFunction",
      "lambda:InvokeFunction",
    ]
    resources = [
      "arn:aws:lambda:us-east-1:123456789012:function:thumbnailer",
    ]
  }

  statement {
    sid    = "LogsWrite"
    effect = "Allow"
    actions = [
      "logs:CreateLogStream",
    ]
    resources = [
      "arn:aws:logs:us-east-1:123456789012:log-group:/dev/app:log-stream:*",
    ]
  }

  statement {
    sid    = "LogsList"
    effect = "Allow"
    actions = [
      "logs:DescribeLogStreams",
    ]
    resources = [
      "arn:aws:logs:us-east-1:123456789012:log-group:/dev/app",
    ]
  }

  statement {
    sid    = "S3ListRead"
    effect = "Allow"
    actions = [
      "s3:GetBucketLocation",
      "s3:ListBucket",
    ]
    resources = [
      "arn:aws:s3:::acme-dev-uploads",
    ]
  }

  statement {
    sid    = "S3Read"
    effect = "Allow"
    actions = [
      "s3:GetObject",
    ]
    resources = [
      "arn:aws:s3:::acme-dev-uploads/uploads/*",
    ]
  }

  statement {
    sid    = "S3Write"
    effect = "Allow"
    actions = [
      "s3:PutObject",
    ]
    resources = [
      "arn:aws:s3:::acme-dev-archive/archive/*",
      "arn:aws:s3:::acme-dev-uploads/uploads/*",
    ]
  }

  statement {
    sid    = "SecretsmanagerRead"
    effect = "Allow"
    actions = [
      "secretsmanager:GetSecretValue",
    ]
    resources = [
      "arn:aws:secretsmanager:us-east-1:123456789012:secret:dev/app/stripe-api-key-??????",
    ]
  }

  statement {
    sid    = "SqsReadWrite"
    effect = "Allow"
    actions = [
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:ReceiveMessage",
      "sqs:SendMessage",
    ]
    resources = [
      "arn:aws:sqs:us-east-1:123456789012:dev-jobs",
    ]
  }

  statement {
    sid    = "SsmRead"
    effect = "Allow"
    actions = [
      "ssm:GetParameter",
    ]
    resources = [
      "arn:aws:ssm:us-east-1:123456789012:parameter/dev/app/database-url",
    ]
  }

  statement {
    sid    = "SsmRead2"
    effect = "Allow"
    actions = [
      "ssm:GetParametersByPath",
    ]
    resources = [
      "arn:aws:ssm:us-east-1:123456789012:parameter/dev/app/feature-flags",
    ]
  }
}
