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
    /// What any ARN it matches must have, checked before the pieces: its service field (when
    /// the template states it) and the literal start of its resource part (`table/`).
    prefilter: Option<(Option<String>, String)>,
}

/// The fields of `text` up to its sixth: `arn`, partition, service, region, account, resource.
pub(crate) fn arn_fields(text: &str) -> Option<[&str; 6]> {
    // What `splitn(6, ':')` gives when it gives six, found by a byte scan (a char searcher
    // costs more than the scan of a field).
    let bytes = text.as_bytes();
    let mut fields = [""; 6];
    let mut start = 0;
    for field in fields.iter_mut().take(5) {
        let len = bytes[start..].iter().position(|&b| b == b':')?;
        *field = &text[start..start + len];
        start += len + 1;
    }
    fields[5] = &text[start..];
    Some(fields)
}

/// [`ArnTemplate::prefilter`] of a template: header variables never hold `:`, so the fields of
/// any ARN it matches line up with its own.
fn prefilter_of(text: &str, pieces: &[Piece]) -> Option<(Option<String>, String)> {
    if pieces.iter().any(|p| matches!(p, Piece::Variable { name, .. } if name.contains(':'))) {
        return None;
    }
    let f = arn_fields(text)?;
    let service = (!f[2].contains("${") && !f[2].contains('}')).then(|| f[2].to_string());
    let resource = f[5].split("${").next().unwrap_or("").to_string();
    Some((service, resource))
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
        let prefilter = prefilter_of(text, &pieces);
        ArnTemplate { text: text.to_string(), pieces, literal_len, prefilter }
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
        self.matches_fields(arn, arn_fields(arn).as_ref())
    }

    /// [`ArnTemplate::matches`] by the pieces alone, without the prefilter (what it must agree
    /// with).
    #[cfg(test)]
    pub(crate) fn matches_by_pieces(&self, arn: &str) -> bool {
        match_pieces(&self.pieces, arn)
    }

    /// [`matches`](Self::matches) with `arn`'s fields split once by the caller ([`arn_fields`]),
    /// for one ARN tried against many templates.
    pub(crate) fn matches_fields(&self, arn: &str, fields: Option<&[&str; 6]>) -> bool {
        if let Some((service, resource)) = &self.prefilter {
            let Some(f) = fields else { return false };
            if service.as_deref().is_some_and(|s| s != f[2]) || !f[5].starts_with(resource.as_str()) {
                return false;
            }
        }
        match_pieces(&self.pieces, arn)
    }

    /// Fills the template. `value` returns the value of a variable, or `None` when unknown;
    /// the result is `None` if any variable is unknown.
    pub(crate) fn fill<S: AsRef<str>>(&self, mut value: impl FnMut(&str) -> Option<S>) -> Option<String> {
        let mut out = String::with_capacity(self.text.len() + 32);
        for p in &self.pieces {
            match p {
                Piece::Literal(l) => out.push_str(l),
                Piece::Variable { name, .. } => out.push_str(value(name)?.as_ref()),
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
            match rest.first() {
                // The last piece takes the rest: it must be long enough (and, for a header
                // variable, hold no `:`).
                None => limit == s.len() && s.len() >= min,
                // The variable ends where the next literal starts: only those split points are
                // tried (every ARN of a log is matched against each template of its service).
                Some(Piece::Literal(l)) if !l.is_empty() => {
                    // The first split point a resource variable allows: after its first character.
                    let mut from = if min == 0 { 0 } else { s.chars().next().map_or(1, char::len_utf8) };
                    while from <= limit {
                        let Some(at) = s.get(from..).and_then(|t| find_literal(t.as_bytes(), l.as_bytes())) else {
                            return false;
                        };
                        let i = from + at;
                        if i > limit {
                            return false;
                        }
                        if match_pieces(&rest[1..], &s[i + l.len()..]) {
                            return true;
                        }
                        from = i + s[i..].chars().next().map_or(1, char::len_utf8);
                    }
                    false
                }
                // Two variables side by side: every split point.
                Some(_) => (min..=limit).filter(|&i| s.is_char_boundary(i)).any(|i| match_pieces(rest, &s[i..])),
            }
        }
    }
}

/// Where `needle` (not empty) first occurs in `hay`: a scan for its first byte, then a compare
/// (template literals are a few bytes: cheaper than setting up a substring searcher). A match
/// starts at a character boundary, `needle` starting with one.
fn find_literal(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut from = 0;
    while let Some(p) = hay.get(from..)?.iter().position(|&b| b == first) {
        let at = from + p;
        if hay[at..].starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
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
        let [arn, partition, service, region, account, resource] = arn_fields(s)?;
        (arn == "arn").then_some(Arn { partition, service, region, account, resource })
    }
}

/// A name copied from a log, written as an IAM resource pattern that matches exactly that name:
/// `*` and `?` become the policy variables `${*}` and `${?}` (IAM's documented way to match them
/// literally), so a key named `*` grants that one key, not the bucket; a `$` that starts `${`
/// becomes `${$}`, so a `${` in a name is no policy variable. (A `$` before anything else is
/// literal to IAM already: Lambda's `[$LATEST]` log streams stay readable.)
pub fn literal(name: &str) -> std::borrow::Cow<'_, str> {
    // Nearly every name holds none of `*`, `?` and `$`: one byte scan says so.
    if !name.bytes().any(|b| matches!(b, b'*' | b'?' | b'$')) {
        return std::borrow::Cow::Borrowed(name);
    }
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
    if !pattern.as_bytes().contains(&b'$') || !pattern.contains("${") {
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
    fn an_arns_fields_are_what_splitn_6_gives_when_it_gives_six() {
        for text in [
            "arn:aws:s3:::bucket/key:with:colons",
            "arn:aws:iam::123456789012:role/path/name",
            "arn:aws:logs:us-east-1:1:log-group:/a:log-stream:s",
            "arn:aws:s3:::",
            ":::::",
            "arn:aws:s3::",
            "arn",
            "",
            "nota:n:arn:at:all:é:ü",
        ] {
            let want: Vec<&str> = text.splitn(6, ':').collect();
            let want = (want.len() == 6).then(|| <[&str; 6]>::try_from(want).unwrap());
            assert_eq!(arn_fields(text), want, "{text:?}");
        }
    }

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

    /// Every split point tried: what `match_pieces` must agree with.
    fn match_pieces_everywhere(pieces: &[Piece], s: &str) -> bool {
        match pieces.split_first() {
            None => s.is_empty(),
            Some((Piece::Literal(l), rest)) => {
                s.strip_prefix(l.as_str()).is_some_and(|t| match_pieces_everywhere(rest, t))
            }
            Some((Piece::Variable { header, .. }, rest)) => {
                let limit = if *header { s.find(':').unwrap_or(s.len()) } else { s.len() };
                let min = usize::from(!*header);
                (min..=limit).filter(|&i| s.is_char_boundary(i)).any(|i| match_pieces_everywhere(rest, &s[i..]))
            }
        }
    }

    #[test]
    fn matching_tries_only_where_the_next_literal_starts_and_agrees_with_trying_everywhere() {
        let templates = [
            "arn:${Partition}:s3:::${BucketName}/${ObjectName}",
            "arn:${Partition}:s3:::${BucketName}",
            "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:log-stream:${LogStreamName}",
            "arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}/index/${IndexName}",
            "arn:${Partition}:sqs:${Region}:${Account}:${QueueName}",
            "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}",
            "arn:${Partition}:a:${Region}:${Account}:${X}${Y}/z",
            "arn:${Partition}:a:${Region}:${Account}:x/${X}xx${Y}",
        ];
        let arns = [
            "arn:aws:s3:::b/k",
            "arn:aws:s3:::b",
            "arn:aws:s3:::b/",
            "arn:aws:s3:::/k",
            "arn:aws:s3:::b/k/l/m",
            "arn:aws:s3:::é/ü",
            "arn:aws-cn:s3:::bücket",
            "arn:aws:logs:us-east-1:1:log-group:/a/b:log-stream:s",
            "arn:aws:logs:us-east-1:1:log-group::log-stream:s",
            "arn:aws:logs:us-east-1:1:log-group:a:log-stream:b:log-stream:c",
            "arn:aws:dynamodb:us-east-1:1:table/t/index/i",
            "arn:aws:dynamodb:us-east-1:1:table/t/index/",
            "arn:aws:dynamodb:us-east-1:1:table/t/index/i/index/j",
            "arn:aws:sqs:us-east-1:1:q",
            "arn:aws:sqs:us-east-1::q",
            "arn:aws:iam::1:role/path/r",
            "arn:aws:a:r:1:ab/z",
            "arn:aws:a:r:1:/z",
            "arn:aws:a:r:1:x/axxxb",
            "arn:aws:a:r:1:x/xxxx",
            "arn:aws:a:r:1:x/ééxxé",
            "arn::s3:::b/k",
            "",
            "arn:",
        ];
        for t in
            templates.iter().chain(&["arn:${Partition}:${Service}:${Region}:${Account}:x/${X}", "arn:aws:s3", "plain"])
        {
            let t = ArnTemplate::parse(t);
            for arn in arns.iter().chain(&["arn:aws:a:r:1:x/y", "arn:aws:s3", "plain"]) {
                assert_eq!(t.matches(arn), match_pieces_everywhere(&t.pieces, arn), "{} against {arn}", t.as_str());
            }
        }
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
        assert_eq!(t.fill(|_| None::<&str>), None);
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
