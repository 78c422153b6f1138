//! Where a call happened (partition, region, account) and the resource ARNs built from it: ARN
//! templates filled with the event's values, the forms a resource comes in besides an ARN (a
//! queue URL, an S3 copy source), and ARNs covered by a longer one.

use std::borrow::Cow;
use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::params::{percent_decode, queue_url_to_arn, string_values};
use crate::ingest::event::Event;
use crate::mapping::arn::{literal, partition_of_region, Arn, ArnTemplate, Partition};

/// Partition, region and account of the call, borrowed from the record where they can be.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Context<'a> {
    pub(super) partition: &'static str,
    pub(super) region: Option<Cow<'a, str>>,
    pub(super) account: Option<Cow<'a, str>>,
}

impl<'a> Context<'a> {
    pub(super) fn new(event: &'a Event<'_>) -> Context<'a> {
        let region = event.aws_region.as_deref().filter(|r| !r.is_empty()).map(literal);
        // The region says the partition; where it cannot (no region, or one of no known
        // partition's prefixes) the principal's ARN does, a known partition only: a log's string
        // never becomes an ARN's partition.
        let id = &event.user_identity;
        let issuer = id.session_context.as_ref().and_then(|c| c.session_issuer.as_ref()).and_then(|i| i.arn.as_deref());
        let principal = id.arn.as_deref().or(issuer);
        let from_principal =
            || principal.and_then(Arn::parse).and_then(|a| Partition::named(a.partition)).map(|p| p.name);
        let partition = match region.as_deref().map(partition_of_region) {
            // A region of another partition says it; the principal is not read.
            Some(r) if r != "aws" => r,
            // An `arn:aws:` principal (nearly all) leaves `aws`, whether or not the rest parses:
            // without parsing it.
            _ if principal.is_some_and(|a| a.starts_with("arn:aws:")) => "aws",
            _ => from_principal().unwrap_or("aws"),
        };
        Context {
            partition,
            region,
            // An account that is not 12 digits (hand-edited or redacted logs) is unknown, not an ARN part.
            account: event
                .account()
                .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
                .map(Cow::Borrowed),
        }
    }

    /// The same context, owning its strings.
    pub(super) fn into_owned(self) -> Context<'static> {
        Context {
            partition: self.partition,
            region: self.region.map(|r| Cow::Owned(r.into_owned())),
            account: self.account.map(|a| Cow::Owned(a.into_owned())),
        }
    }

    /// The event's region, or `*` when it names none.
    pub(super) fn region_or_any(&self) -> &str {
        self.region.as_deref().unwrap_or("*")
    }

    /// The event's account, or `*` when it names none (or not as 12 digits).
    pub(super) fn account_or_any(&self) -> &str {
        self.account.as_deref().unwrap_or("*")
    }

    /// A DynamoDB table (or index) named in a request, as an ARN in the event's partition,
    /// region and account. The names are literal patterns already, as the parameter readers
    /// (`string_values`, `path_values`) give them.
    pub(super) fn dynamodb_table_arn(&self, table: &str, index: Option<&str>) -> String {
        let mut arn =
            format!("arn:{}:dynamodb:{}:{}:table/{table}", self.partition, self.region_or_any(), self.account_or_any());
        if let Some(i) = index {
            arn.push_str(&format!("/index/{i}"));
        }
        arn
    }

    pub(super) fn context_value(&self, var: &str) -> Option<&str> {
        match var {
            "Partition" => Some(self.partition),
            "Region" => self.region.as_deref(),
            "Account" => self.account.as_deref(),
            _ => None,
        }
    }
}

/// `templates` filled with the event's partition, region and account and `*` for everything else.
pub(super) fn scoped_wildcards<'t>(
    templates: &'t [ArnTemplate],
    ctx: &'t Context,
) -> impl Iterator<Item = String> + 't {
    templates.iter().filter_map(move |t| t.fill(|v| Some(ctx.context_value(v).unwrap_or("*"))))
}

/// ARNs that a parameter names in another form: an SQS queue URL.
pub(super) fn derived_arns(params: &Map<String, Value>, ctx: &Context) -> Vec<String> {
    let mut out = Vec::new();
    for url in string_values(params.get("queueUrl")) {
        if let Some(arn) = queue_url_to_arn(&url, ctx.region.as_deref()) {
            out.push(arn);
        }
    }
    out
}

/// The source object ARN of CopyObject / UploadPartCopy from `x-amz-copy-source`
/// (`bucket/key`, optionally URL-encoded, with a leading `/` or a `?versionId=` suffix).
pub(super) fn copy_source_arn(params: &Map<String, Value>, ctx: &Context) -> Option<String> {
    let raw = ["x-amz-copy-source", "copySource", "CopySource"]
        .iter()
        .find_map(|k| params.get(*k).and_then(Value::as_str))?;
    let decoded = percent_decode(raw);
    let path = decoded.trim_start_matches('/');
    let path = path.split_once("?versionId=").map_or(path, |(p, _)| p);
    let (bucket, key) = path.split_once('/')?;
    if bucket.is_empty() || key.is_empty() {
        return None;
    }
    Some(format!("arn:{}:s3:::{}/{}", ctx.partition, literal(bucket), literal(key)))
}

/// Fills a template for every combination of the variables' values (capped).
pub(super) fn fill_all(
    template: &ArnTemplate,
    ctx: &Context,
    vars: &[&str],
    values: &[Vec<String>],
) -> BTreeSet<String> {
    const MAX_COMBINATIONS: usize = 1000;
    let fill = |combo: &[&str]| {
        template
            .fill(|var| {
                ctx.context_value(var)
                    .or_else(|| vars.iter().position(|v| *v == var).map(|i| combo[i]))
                    // A record without a region or account still names its resource: `*` for
                    // the part it does not say keeps the name instead of widening to `table/*`.
                    .or_else(|| matches!(var, "Region" | "Account").then_some("*"))
            })
            .filter(|arn| template.matches(arn))
    };
    // Most calls name one value for each variable: one ARN, no combinations built.
    if values.iter().all(|v| v.len() == 1) {
        let one: Vec<&str> = values.iter().map(|v| v[0].as_str()).collect();
        return fill(&one).into_iter().collect();
    }
    let mut combos: Vec<Vec<&str>> = vec![Vec::new()];
    for vals in values {
        let mut next = Vec::new();
        for c in &combos {
            for v in vals {
                if next.len() >= MAX_COMBINATIONS {
                    break;
                }
                let mut c2 = c.clone();
                c2.push(v.as_str());
                next.push(c2);
            }
        }
        combos = next;
    }
    combos.iter().filter_map(|combo| fill(combo)).collect()
}

/// Drops an ARN when a longer one in the set extends it (`table/t` when `table/t/index/i` is
/// there; `function:f` when `function:f:live` is): the call was authorized on the longer one.
pub(super) fn prune_covered_prefixes(set: BTreeSet<String>) -> Vec<String> {
    // Most calls name one resource: nothing to prune.
    if set.len() < 2 {
        return set.into_iter().collect();
    }
    let covered = |a: &str| {
        set.iter().any(|b| b.len() > a.len() && b.starts_with(a) && matches!(b.as_bytes()[a.len()], b'/' | b':'))
    };
    let kept: Vec<bool> = set.iter().map(|a| !covered(a)).collect();
    // The ARNs are moved out, not copied.
    set.into_iter().zip(kept).filter_map(|(a, keep)| keep.then_some(a)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_partition_is_the_regions_else_a_known_one_of_the_principals_else_aws() {
        for (region, arn, issuer, want) in [
            // A region of a partition other than aws says it, whatever the principal says.
            (Some("cn-north-1"), Some("arn:aws:sts::123456789012:assumed-role/r/s"), None, "aws-cn"),
            (Some("us-gov-west-1"), None, None, "aws-us-gov"),
            // A region of aws (or none) leaves the principal's partition, a known one only.
            (Some("us-east-1"), Some("arn:aws-cn:sts::123456789012:assumed-role/r/s"), None, "aws-cn"),
            (None, Some("arn:aws-us-gov:iam::123456789012:user/u"), None, "aws-us-gov"),
            (Some(""), Some("arn:aws-us-gov:iam::123456789012:user/u"), None, "aws-us-gov"),
            (None, Some("arn:made-up:iam::123456789012:user/u"), None, "aws"),
            (Some("us-east-1"), Some("arn:aws:sts::123456789012:assumed-role/r/s"), None, "aws"),
            (None, Some("arn:aws:not-a-whole-arn"), None, "aws"),
            (None, Some("not an arn"), None, "aws"),
            (None, None, None, "aws"),
            // Without the principal's own ARN, its session issuer's.
            (None, None, Some("arn:aws-cn:iam::123456789012:role/r"), "aws-cn"),
            (Some("eu-west-1"), None, Some("arn:aws-iso:iam::123456789012:role/r"), "aws-iso"),
        ] {
            let mut identity = serde_json::json!({});
            if let Some(a) = arn {
                identity["arn"] = a.into();
            }
            if let Some(a) = issuer {
                identity["sessionContext"] = serde_json::json!({"sessionIssuer": {"arn": a}});
            }
            let mut record = serde_json::json!({"eventSource": "s3.amazonaws.com", "eventName": "GetObject", "userIdentity": identity});
            if let Some(r) = region {
                record["awsRegion"] = r.into();
            }
            let json = record.to_string();
            assert_eq!(Context::new(&Event::from_json(&json).unwrap()).partition, want, "{json}");
        }
    }
}
