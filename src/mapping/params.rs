//! Reading request parameters: the values of a parameter (as literal resource patterns), the
//! parameters that fill an ARN template's variable, ARN-valued parameters that name a resource,
//! and the other forms a resource comes in (queue URLs, URL-encoded copy sources).

use serde_json::{Map, Value};

use crate::mapping::arn::{literal, partition_of_region, Arn};

/// Request-parameter members that fill a template variable, beyond the generic
/// lowerCamelCase rule (`${TableName}` <- `tableName`).
pub(super) const VARIABLE_PARAMETERS: &[(&str, &[&str])] = &[
    ("BucketName", &["bucketName", "bucket", "Bucket"]),
    ("ObjectName", &["key", "Key"]),
    ("ParameterNameWithoutLeadingSlash", &["name", "names", "path"]),
    ("RoleNameWithPath", &["roleName"]),
    ("UserNameWithPath", &["userName"]),
    ("GroupNameWithPath", &["groupName"]),
    ("InstanceProfileNameWithPath", &["instanceProfileName"]),
    ("KeyId", &["keyId"]),
    ("SecretId", &["secretId"]),
    ("FunctionName", &["functionName"]),
    ("LogGroupName", &["logGroupName"]),
    ("LogStreamName", &["logStreamName"]),
    ("StreamName", &["streamName"]),
    ("DeliveryStreamName", &["deliveryStreamName"]),
    ("RepositoryName", &["repositoryName"]),
    ("TopicName", &["name"]),
    ("QueueName", &["queueName"]),
    ("TableName", &["tableName", "tableArn"]),
    ("IndexName", &["indexName"]),
    ("TrailName", &["name", "trailName"]),
    ("StateMachineName", &["name"]),
    ("SecurityGroupId", &["groupId"]),
    ("NaclId", &["networkAclId"]),
    ("InstanceId", &["instanceId", "instancesSet.items[].instanceId"]),
    ("VolumeId", &["volumeId"]),
    ("SnapshotId", &["snapshotId"]),
    ("ImageId", &["imageId"]),
    ("DbInstanceName", &["dBInstanceIdentifier"]),
    ("DbClusterInstanceName", &["dBClusterIdentifier"]),
    ("SnapshotName", &["dBSnapshotIdentifier"]),
    ("ClusterSnapshotName", &["dBClusterSnapshotIdentifier"]),
];

pub(super) fn is_empty_value(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty() || o.get("items").is_some_and(is_empty_value),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

pub(super) fn lower_camel(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_ascii_lowercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

/// [`lower_camel`] written into `buf` when it fits.
fn lower_camel_in<'b>(s: &str, buf: &'b mut [u8; 96]) -> std::borrow::Cow<'b, str> {
    if s.len() > buf.len() || !s.is_ascii() {
        return std::borrow::Cow::Owned(lower_camel(s));
    }
    let b = &mut buf[..s.len()];
    b.copy_from_slice(s.as_bytes());
    if let Some(f) = b.first_mut() {
        f.make_ascii_lowercase();
    }
    std::str::from_utf8(b).map_or_else(|_| std::borrow::Cow::Owned(lower_camel(s)), std::borrow::Cow::Borrowed)
}

/// Values at a dotted path of the request parameters; `name[]` steps into every element of an
/// array (`instancesSet.items[].instanceId`).
pub(super) fn path_values(params: &Map<String, Value>, path: &str) -> Vec<String> {
    let mut current: Vec<&Value> = Vec::new();
    for (i, step) in path.split('.').enumerate() {
        let (key, each) = match step.strip_suffix("[]") {
            Some(k) => (k, true),
            None => (step, false),
        };
        let next: Vec<&Value> = if i == 0 {
            params.get(key).into_iter().collect()
        } else {
            current.iter().filter_map(|v| v.get(key)).collect()
        };
        current = if each { next.into_iter().filter_map(Value::as_array).flatten().collect() } else { next };
    }
    current.into_iter().flat_map(|v| string_values(Some(v))).collect()
}

/// String values of a parameter (a string, or an array of strings), as literal resource
/// patterns ([`crate::mapping::arn::literal`]): every name that reaches a resource comes through here.
pub(super) fn string_values(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) if !s.is_empty() => vec![literal(s).into_owned()],
        Some(Value::Array(items)) => {
            items.iter().filter_map(Value::as_str).filter(|s| !s.is_empty()).map(|s| literal(s).into_owned()).collect()
        }
        _ => Vec::new(),
    }
}

/// Values for template variable `var` from the request parameters, transformed to the form
/// the template needs. ARN values are left to [`arn_parameters`].
pub(super) fn parameter_values(var: &str, params: &Map<String, Value>) -> Vec<String> {
    let named: &[&str] = VARIABLE_PARAMETERS.iter().find(|(v, _)| *v == var).map_or(&[], |(_, p)| p);
    // Called for each variable of each template of each record: the lower-camel names are
    // built on the stack.
    let (mut first, mut second) = ([0u8; 96], [0u8; 96]);
    let generic =
        [lower_camel_in(var, &mut first), lower_camel_in(var.strip_suffix("Name").unwrap_or(var), &mut second)];
    let mut out = Vec::new();
    for key in named.iter().copied().chain(generic.iter().map(|g| &**g)) {
        let values = if key.contains('.') { path_values(params, key) } else { string_values(params.get(key)) };
        for value in values {
            if let Some(v) = transform_value(var, &value, params) {
                out.push(v);
            }
        }
        if !out.is_empty() {
            break;
        }
    }
    out
}

pub(super) fn transform_value(var: &str, value: &str, params: &Map<String, Value>) -> Option<String> {
    match var {
        "FunctionName" => {
            // name, name:qualifier, 123456789012:function:name, or a full ARN.
            let base = value.rsplit_once("function:").map_or(value, |(_, n)| n).to_string();
            match params.get("qualifier").and_then(Value::as_str) {
                Some(q) if !base.contains(':') && !q.is_empty() && q != "$LATEST" => Some(format!("{base}:{q}")),
                _ => Some(base),
            }
        }
        _ if value.starts_with("arn:") => None,
        "ParameterNameWithoutLeadingSlash" => Some(value.trim_matches('/').to_string()).filter(|v| !v.is_empty()),
        // A key given as an alias cannot name the key ARN.
        "KeyId" if value.starts_with("alias/") => None,
        // Secrets Manager appends six random characters to a secret's name in its ARN.
        "SecretId" => Some(format!("{value}-??????")),
        _ => Some(value.to_string()),
    }
}

/// ARN-valued request parameters (top-level strings and arrays of strings) whose name says they
/// identify a resource (`functionName`, `TopicArn`, `resourceArns`, `secretId`, ...). Free text
/// that merely holds an ARN (`description`, `comment`, `message`, a policy document) never
/// names the resource a call was authorized on.
pub(super) fn arn_parameters(params: &Map<String, Value>) -> Vec<String> {
    // Only values that start `arn:` are read as names ([`string_values`]; `literal` leaves that
    // start as it is): other values are not copied to be dropped.
    let arn_like = |v: &Value| match v {
        Value::String(s) => s.starts_with("arn:"),
        Value::Array(items) => items.iter().any(|i| i.as_str().is_some_and(|s| s.starts_with("arn:"))),
        _ => false,
    };
    params
        .iter()
        .filter(|(k, v)| arn_like(v) && identifies_resource(k))
        .flat_map(|(_, v)| string_values(Some(v)))
        .filter(|s| s.starts_with("arn:") && Arn::parse(s).is_some())
        .collect()
}

/// True for a parameter name that identifies a resource: it ends in `Arn(s)`, `Id(s)`,
/// `Name(s)`, `Identifier(s)`, `Resource(s)` or is one of those words (any case).
pub(super) fn identifies_resource(key: &str) -> bool {
    let k = key.as_bytes();
    let is_s = |b: Option<&u8>| b.is_some_and(|b| b.eq_ignore_ascii_case(&b's'));
    // One plural `s` is dropped (not the second of a double `s`).
    let k = if is_s(k.last()) && !is_s(k.len().checked_sub(2).and_then(|i| k.get(i))) { &k[..k.len() - 1] } else { k };
    ["arn", "id", "name", "identifier", "resource", "resourcearn"]
        .iter()
        .any(|suffix| k.len() >= suffix.len() && k[k.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes()))
}

/// `https://sqs.us-east-1.amazonaws.com/123456789012/jobs` -> `arn:aws:sqs:us-east-1:123456789012:jobs`;
/// `fallback_region` serves legacy `queue.amazonaws.com` URLs, which name no region.
pub fn queue_url_to_arn(url: &str, fallback_region: Option<&str>) -> Option<String> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let mut parts = rest.split('/');
    let host = parts.next()?;
    let account = parts.next().filter(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()))?;
    let name = parts.next().filter(|n| !n.is_empty())?;
    let region = host.split('.').nth(1).filter(|r| r.contains('-')).or(fallback_region)?;
    Some(format!("arn:{}:sqs:{region}:{account}:{name}", partition_of_region(region)))
}

/// Decodes `%XX` escapes (URL-encoded policy documents, S3 copy sources); `+` is kept.
pub fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// EC2's newer operations log their parameters inside one `<Operation>Request` object with
/// PascalCase members (`{"CreateFlowLogsRequest": {"DeliverLogsPermissionArn": ..., "TagSpecification": ...}}`):
/// those parameters, unwrapped and with lowerCamel member names as the other operations log
/// them, so resources, tags and roles are found the same way. Other requests come back as they are.
pub(super) fn unwrap_request<'p>(
    event_name: &str,
    params: &'p Map<String, Value>,
) -> std::borrow::Cow<'p, Map<String, Value>> {
    // One member named `<event name>Request` (checked without building the name: this runs for
    // every event).
    let wrapped = match params.iter().next() {
        Some((key, Value::Object(inner))) if params.len() == 1 && key.strip_suffix("Request") == Some(event_name) => {
            Some(inner)
        }
        _ => None,
    };
    match wrapped {
        Some(inner) => std::borrow::Cow::Owned(lower_camel_keys(inner)),
        None => std::borrow::Cow::Borrowed(params),
    }
}

fn lower_camel_keys(map: &Map<String, Value>) -> Map<String, Value> {
    map.iter().map(|(k, v)| (lower_camel(k), lower_camel_value(v))).collect()
}

fn lower_camel_value(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(lower_camel_keys(m)),
        Value::Array(items) => Value::Array(items.iter().map(lower_camel_value).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule as first written: the name lowercased, one plural `s` dropped, then its ending.
    fn identifies_resource_as_written(key: &str) -> bool {
        let k = key.to_ascii_lowercase();
        let k = k.strip_suffix('s').filter(|b| !b.ends_with('s')).unwrap_or(&k);
        ["arn", "id", "name", "identifier", "resource", "resourcearn"].iter().any(|suffix| k.ends_with(suffix))
    }

    #[test]
    fn a_parameter_identifies_a_resource_by_its_name_ending_whatever_its_case() {
        for (key, want) in [
            ("functionName", true),
            ("TopicArn", true),
            ("resourceArns", true),
            ("ResourceARNS", true),
            ("secretId", true),
            ("instanceIds", true),
            ("Identifier", true),
            ("resources", true),
            ("names", true),
            ("arn", true),
            ("ARNs", true),
            ("id", true),
            ("ids", true),
            ("description", false),
            ("policyDocument", false),
            ("address", false),
            ("Process", false),
            ("status", false),
            ("s", false),
            ("ss", false),
            ("", false),
            ("namess", false),
            ("naméId", true),
            ("nameß", false),
            ("idß", false),
        ] {
            assert_eq!(identifies_resource(key), want, "{key}");
            assert_eq!(identifies_resource(key), identifies_resource_as_written(key), "{key}");
        }
    }

    #[test]
    fn only_arn_values_of_parameters_that_identify_a_resource_are_arn_parameters() {
        let params: Map<String, Value> = serde_json::from_str(
            r#"{"functionName":"arn:aws:lambda:us-east-1:123456789012:function:f","bucketName":"b",
            "description":"arn:aws:s3:::not-this","resourceArns":["x","arn:aws:sns:us-east-1:123456789012:t",""],
            "roleArn":"arn:not-an-arn","keyId":"arn:aws:kms:us-east-1:123456789012:key/k*"}"#,
        )
        .unwrap();
        assert_eq!(
            arn_parameters(&params),
            vec![
                "arn:aws:lambda:us-east-1:123456789012:function:f".to_string(),
                literal("arn:aws:kms:us-east-1:123456789012:key/k*").into_owned(),
                "arn:aws:sns:us-east-1:123456789012:t".to_string(),
            ]
        );
    }
}
