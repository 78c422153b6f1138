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

    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values = [
        "us-east-1",
      ]
    }
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

    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values = [
        "us-east-1",
      ]
    }
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

    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values = [
        "us-east-1",
      ]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values = [
        "s3.us-east-1.amazonaws.com",
      ]
    }
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

    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values = [
        "us-east-1",
      ]
    }
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

    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values = [
        "us-east-1",
      ]
    }
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

    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values = [
        "us-east-1",
      ]
    }
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

    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values = [
        "us-east-1",
      ]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceVpce"
      values = [
        "vpce-0a1b2c3d4e5f60718",
      ]
    }
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

    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values = [
        "us-east-1",
      ]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceVpce"
      values = [
        "vpce-0a1b2c3d4e5f60718",
      ]
    }
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

    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values = [
        "us-east-1",
      ]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceVpce"
      values = [
        "vpce-0a1b2c3d4e5f60718",
      ]
    }
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

    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values = [
        "us-east-1",
      ]
    }
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

    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values = [
        "us-east-1",
      ]
    }
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

    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values = [
        "us-east-1",
      ]
    }
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

    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values = [
        "us-east-1",
      ]
    }
  }
}
