SELECT eventSource, eventName, eventType, awsRegion, recipientAccountId, errorCode,
  userIdentity.invokedBy AS invokedBy, vpcEndpointId, userIdentity.sessionContext.sessionIssuer.arn AS roleArn,
  json_format(CAST(requestParameters AS JSON)) AS requestParameters,
  array_join(transform(resources, r -> r.arn), ' ') AS resources,
  count(*) AS calls, min(eventTime) AS firstSeen, max(eventTime) AS lastSeen,
  userIdentity.type AS identityType,
  CASE WHEN userIdentity.type IN ('IAMUser', 'FederatedUser') THEN userIdentity.arn END AS principalArn,
  userIdentity.sessionContext.sessionIssuer.type AS issuerType
FROM EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE
WHERE lower(userIdentity.sessionContext.sessionIssuer.userName) = 'dev-app-role'
  AND userIdentity.sessionContext.sessionIssuer.accountId = '123456789012'
  AND eventTime >= '2026-10-01 00:00:00'
  AND eventTime <= '2026-10-07 23:59:59'
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 16, 17
ORDER BY 1, 2, 4, 6, 10, 11
