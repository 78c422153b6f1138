SELECT eventsource, eventname, eventtype, awsregion, recipientaccountid, errorcode,
  useridentity.invokedby AS invokedby, vpcendpointid, useridentity.sessioncontext.sessionissuer.arn AS rolearn,
  requestparameters, array_join(transform(resources, r -> r.arn), ' ') AS resources,
  count(*) AS calls, min(eventtime) AS firstseen, max(eventtime) AS lastseen,
  useridentity.type AS identitytype,
  CASE WHEN useridentity.type IN ('IAMUser', 'FederatedUser') THEN useridentity.arn END AS principalarn,
  useridentity.sessioncontext.sessionissuer.type AS issuertype
FROM "cloudtrail"."trail"
WHERE lower(useridentity.sessioncontext.sessionissuer.username) = 'dev-app-role'
  AND useridentity.sessioncontext.sessionissuer.accountid = '123456789012'
  AND eventtime >= '2026-10-01T00:00:00Z'
  AND eventtime <= '2026-10-07T23:59:59Z'
  AND "timestamp" >= '2026/10/01'
  AND "timestamp" <= '2026/10/08'
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 16, 17
ORDER BY 1, 2, 4, 6, 10, 11
