//! ARN templates from the IAM catalog (`arn:${Partition}:s3:::${BucketName}/${ObjectName}`):
//! matching concrete ARNs against them, and filling them in from an event.

use std::fmt;

/// One piece of a parsed ARN template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Literal text that must appear as is.
    Literal(String),
    /// A `${Name}` variable. `header` is true for variables among the first five
    /// colon-separated fields (partition, service, region, account), which never contain `:`.
    Variable { name: String, header: bool },
}

/// A parsed ARN template such as `arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArnTemplate {
    text: String,
    pieces: Vec<Piece>,
    literal_len: usize,
}

/// The variables every template may use that come from the event rather than its parameters.
pub(crate) const CONTEXT_VARIABLES: [&str; 3] = ["Partition", "Region", "Account"];

impl ArnTemplate {
    /// Parses a template. Text outside `${...}` is literal.
    pub fn parse(text: &str) -> ArnTemplate {
        let mut pieces = Vec::new();
        let mut rest = text;
        let mut colons = 0usize;
        let mut literal_len = 0;
        while !rest.is_empty() {
            match rest.find("${") {
                Some(start) => {
                    let Some(end_rel) = rest[start..].find('}') else {
                        pieces.push(Piece::Literal(rest.to_string()));
                        literal_len += rest.len();
                        break;
                    };
                    if start > 0 {
                        let lit = &rest[..start];
                        colons += lit.matches(':').count();
                        literal_len += lit.len();
                        pieces.push(Piece::Literal(lit.to_string()));
                    }
                    let name = &rest[start + 2..start + end_rel];
                    pieces.push(Piece::Variable { name: name.to_string(), header: colons < 5 });
                    rest = &rest[start + end_rel + 1..];
                }
                None => {
                    literal_len += rest.len();
                    pieces.push(Piece::Literal(rest.to_string()));
                    break;
                }
            }
        }
        ArnTemplate { text: text.to_string(), pieces, literal_len }
    }

    /// The template text as the catalog states it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Number of literal characters: a template with more of them is more specific.
    pub(crate) fn specificity(&self) -> usize {
        self.literal_len
    }

    /// Names of the variables, in order.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Variable { name, .. } => Some(name.as_str()),
            Piece::Literal(_) => None,
        })
    }

    /// Variables that must come from the request (all but partition, region and account).
    pub(crate) fn request_variables(&self) -> impl Iterator<Item = &str> {
        self.variables().filter(|v| !CONTEXT_VARIABLES.contains(v))
    }

    /// True when `arn` is an instance of this template. Header variables match any run of
    /// characters without `:` (possibly empty); resource variables match one or more characters.
    /// Literals are compared case-sensitively, as IAM compares ARNs.
    pub fn matches(&self, arn: &str) -> bool {
        match_pieces(&self.pieces, arn)
    }

    /// Fills the template. `value` returns the value of a variable, or `None` when unknown;
    /// the result is `None` if any variable is unknown.
    pub(crate) fn fill(&self, mut value: impl FnMut(&str) -> Option<String>) -> Option<String> {
        let mut out = String::with_capacity(self.text.len() + 32);
        for p in &self.pieces {
            match p {
                Piece::Literal(l) => out.push_str(l),
                Piece::Variable { name, .. } => out.push_str(&value(name)?),
            }
        }
        Some(out)
    }
}

impl fmt::Display for ArnTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn match_pieces(pieces: &[Piece], s: &str) -> bool {
    match pieces.split_first() {
        None => s.is_empty(),
        Some((Piece::Literal(l), rest)) => s.strip_prefix(l.as_str()).is_some_and(|t| match_pieces(rest, t)),
        Some((Piece::Variable { header, .. }, rest)) => {
            let limit = if *header { s.find(':').unwrap_or(s.len()) } else { s.len() };
            let min = usize::from(!*header);
            // Try every split point; templates are short, so this is cheap.
            (min..=limit).filter(|&i| s.is_char_boundary(i)).any(|i| match_pieces(rest, &s[i..]))
        }
    }
}

/// The partitions iamtrim knows, each with its regions (the ones `--all-regions` reads) and the
/// region its global services (IAM, STS's global endpoint) answer in. A partition name from a
/// log that is not one of these is never put in an ARN.
pub const PARTITIONS: &[Partition] = &[
    Partition {
        name: "aws",
        global_region: "us-east-1",
        regions: &[
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
            "ca-central-1",
            "ca-west-1",
            "sa-east-1",
            "mx-central-1",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "eu-central-1",
            "eu-central-2",
            "eu-north-1",
            "eu-south-1",
            "eu-south-2",
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-southeast-3",
            "ap-southeast-4",
            "ap-southeast-5",
            "ap-southeast-7",
            "ap-south-1",
            "ap-south-2",
            "ap-east-1",
            "ap-east-2",
            "me-south-1",
            "me-central-1",
            "il-central-1",
            "af-south-1",
        ],
    },
    Partition { name: "aws-us-gov", global_region: "us-gov-west-1", regions: &["us-gov-west-1", "us-gov-east-1"] },
    Partition { name: "aws-cn", global_region: "cn-north-1", regions: &["cn-north-1", "cn-northwest-1"] },
    Partition { name: "aws-iso", global_region: "us-iso-east-1", regions: &["us-iso-east-1", "us-iso-west-1"] },
    Partition { name: "aws-iso-b", global_region: "us-isob-east-1", regions: &["us-isob-east-1"] },
    Partition { name: "aws-iso-e", global_region: "eu-isoe-west-1", regions: &["eu-isoe-west-1"] },
    Partition { name: "aws-iso-f", global_region: "us-isof-south-1", regions: &["us-isof-south-1", "us-isof-east-1"] },
    Partition { name: "aws-eusc", global_region: "eusc-de-east-1", regions: &["eusc-de-east-1"] },
];

/// An AWS partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// `aws`, `aws-us-gov`, `aws-cn`, ...
    pub name: &'static str,
    /// Where the partition's global services (IAM) are called.
    pub global_region: &'static str,
    /// Its regions.
    pub regions: &'static [&'static str],
}

impl Partition {
    /// The partition named `name` (`aws-us-gov`), if iamtrim knows it.
    pub fn named(name: &str) -> Option<&'static Partition> {
        PARTITIONS.iter().find(|p| p.name == name)
    }

    /// The partition of `region`, from its prefix (`cn-`, `us-gov-`, `us-isob-`, `eusc-`, ...);
    /// `aws` for any other name.
    pub fn of_region(region: &str) -> &'static Partition {
        let name = if region.starts_with("cn-") {
            "aws-cn"
        } else if region.starts_with("us-gov-") {
            "aws-us-gov"
        } else if region.starts_with("us-isob-") {
            "aws-iso-b"
        } else if region.starts_with("us-isof-") {
            "aws-iso-f"
        } else if region.starts_with("us-iso-") {
            "aws-iso"
        } else if region.starts_with("eu-isoe-") {
            "aws-iso-e"
        } else if region.starts_with("eusc-") {
            "aws-eusc"
        } else {
            "aws"
        };
        Partition::named(name).unwrap_or(&PARTITIONS[0])
    }
}

/// The partition of a region: `aws-cn` for China, `aws-us-gov` for GovCloud, `aws-iso*` for
/// the isolated regions, `aws-eusc` for the European Sovereign Cloud, `aws` otherwise.
pub(crate) fn partition_of_region(region: &str) -> &'static str {
    Partition::of_region(region).name
}

/// The fields of a concrete ARN `arn:partition:service:region:account:resource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    /// `aws`, `aws-cn`, ...
    pub partition: &'a str,
    /// The service namespace, e.g. `s3`.
    pub service: &'a str,
    /// Region, possibly empty.
    pub region: &'a str,
    /// Account ID, possibly empty.
    pub account: &'a str,
    /// Everything after the fifth colon.
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Splits an ARN into its fields; `None` if it does not start with `arn:` and have six fields.
    pub fn parse(s: &'a str) -> Option<Arn<'a>> {
        let mut it = s.splitn(6, ':');
        if it.next()? != "arn" {
            return None;
        }
        Some(Arn {
            partition: it.next()?,
            service: it.next()?,
            region: it.next()?,
            account: it.next()?,
            resource: it.next()?,
        })
    }
}

/// A name copied from a log, written as an IAM resource pattern that matches exactly that name:
/// `*` and `?` become the policy variables `${*}` and `${?}` (IAM's documented way to match them
/// literally), so a key named `*` grants that one key, not the bucket; a `$` that starts `${`
/// becomes `${$}`, so a `${` in a name is no policy variable. (A `$` before anything else is
/// literal to IAM already: Lambda's `[$LATEST]` log streams stay readable.)
pub fn literal(name: &str) -> std::borrow::Cow<'_, str> {
    if !name.contains(['*', '?']) && !name.contains("${") {
        return std::borrow::Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len() + 8);
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => out.push_str("${*}"),
            '?' => out.push_str("${?}"),
            '$' if chars.peek() == Some(&'{') => out.push_str("${$}"),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The concrete name a pattern stands for, undoing [`literal`]: `${*}` -> `*`, `${?}` -> `?`,
/// `${$}` -> `$`. iamtrim's own wildcards (a bare `*` or `?`) stay as they are.
pub(crate) fn concrete(pattern: &str) -> std::borrow::Cow<'_, str> {
    if !pattern.contains("${") {
        return std::borrow::Cow::Borrowed(pattern);
    }
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        match rest.get(i + 2..i + 4) {
            Some(e @ ("*}" | "?}" | "$}")) => {
                out.push_str(&e[..1]);
                rest = &rest[i + 4..];
            }
            _ => {
                out.push_str("${");
                rest = &rest[i + 2..];
            }
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// True when a pattern has a wildcard of its own (a `*` or `?` not written as `${*}`/`${?}`).
pub(crate) fn has_wildcard(pattern: &str) -> bool {
    pattern.replace("${*}", "").replace("${?}", "").contains(['*', '?'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_names_round_trip_and_keep_no_wildcard() {
        for (name, pattern) in [
            ("a*", "a${*}"),
            ("invoice-??.pdf", "invoice-${?}${?}.pdf"),
            ("x${aws:username}", "x${$}{aws:username}"),
            ("plain/key", "plain/key"),
            ("[$LATEST]", "[$LATEST]"),
            ("$${", "$${$}{"),
        ] {
            assert_eq!(literal(name), pattern);
            assert_eq!(concrete(pattern), name);
            assert!(!has_wildcard(pattern), "{pattern}");
        }
        assert!(has_wildcard("arn:aws:s3:::b/${*}/*"));
        assert!(has_wildcard("arn:aws:secretsmanager:r:1:secret:s-??????"));
    }

    #[test]
    fn matching_follows_template_segments() {
        let object = ArnTemplate::parse("arn:${Partition}:s3:::${BucketName}/${ObjectName}");
        let bucket = ArnTemplate::parse("arn:${Partition}:s3:::${BucketName}");
        let cases = [
            (&object, "arn:aws:s3:::bucket/key/with/slashes", true),
            (&object, "arn:aws:s3:::bucket", false),
            (&object, "arn:aws:s3:::bucket/", false),
            (&bucket, "arn:aws:s3:::bucket", true),
            // A bucket template matches an object ARN too; specificity picks the object type.
            (&bucket, "arn:aws:s3:::bucket/key", true),
            (&bucket, "arn:aws:s3:us-east-1::bucket", false),
            (&object, "arn:aws-cn:s3:::b/k", true),
            (&object, "ARN:aws:s3:::b/k", false),
        ];
        for (t, arn, want) in cases {
            assert_eq!(t.matches(arn), want, "{t} vs {arn}");
        }
        assert!(object.specificity() > bucket.specificity());
    }

    #[test]
    fn header_variables_do_not_cross_colons() {
        let t = ArnTemplate::parse("arn:${Partition}:sqs:${Region}:${Account}:${QueueName}");
        assert!(t.matches("arn:aws:sqs:us-east-1:123456789012:jobs"));
        assert!(!t.matches("arn:aws:sqs:us-east-1:123456789012"));
        let role = ArnTemplate::parse("arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}");
        assert!(role.matches("arn:aws:iam::123456789012:role/service-role/app"));
        assert!(!role.matches("arn:aws:iam:us-east-1:123456789012:role/app"));
    }

    #[test]
    fn fill_and_variables() {
        let t =
            ArnTemplate::parse("arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}/index/${IndexName}");
        assert_eq!(t.request_variables().collect::<Vec<_>>(), ["TableName", "IndexName"]);
        let arn = t.fill(|v| {
            Some(
                match v {
                    "Partition" => "aws",
                    "Region" => "eu-west-1",
                    "Account" => "111122223333",
                    "TableName" => "orders",
                    "IndexName" => "by-date",
                    _ => return None,
                }
                .to_string(),
            )
        });
        assert_eq!(arn.as_deref(), Some("arn:aws:dynamodb:eu-west-1:111122223333:table/orders/index/by-date"));
        assert_eq!(t.fill(|_| None), None);
    }

    #[test]
    fn partitions_and_arn_fields() {
        assert_eq!(partition_of_region("cn-north-1"), "aws-cn");
        assert_eq!(partition_of_region("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_of_region("eu-central-1"), "aws");
        assert_eq!(partition_of_region("eusc-de-east-1"), "aws-eusc");
        assert_eq!(partition_of_region("us-isof-south-1"), "aws-iso-f");
        assert_eq!(partition_of_region("us-isob-east-1"), "aws-iso-b");
        for p in PARTITIONS {
            assert!(p.regions.contains(&p.global_region), "{}", p.name);
            assert!(p.regions.iter().all(|r| partition_of_region(r) == p.name), "{}", p.name);
        }
        let a = Arn::parse("arn:aws:lambda:us-east-1:123456789012:function:f:live").unwrap();
        assert_eq!(
            (a.service, a.region, a.account, a.resource),
            ("lambda", "us-east-1", "123456789012", "function:f:live")
        );
        assert!(Arn::parse("not-an-arn").is_none());
    }
}
