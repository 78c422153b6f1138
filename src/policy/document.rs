//! The IAM policy document iamtrim writes. (Reading and evaluating arbitrary policies belongs
//! to the diff stage and lives beside it.)

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The policy language version every generated policy uses.
pub(crate) const POLICY_VERSION: &str = "2012-10-17";

/// Maximum size of a managed policy, in characters not counting white space.
pub(crate) const MANAGED_POLICY_LIMIT: usize = 6_144;

pub use super::model::Effect;

/// One statement of a generated policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    /// Statement ID: letters and digits.
    pub sid: String,
    /// Allow or Deny.
    pub effect: Effect,
    /// Actions, sorted.
    pub action: Vec<String>,
    /// Resource ARNs, sorted, or `["*"]`.
    pub resource: Vec<String>,
    /// Conditions: operator -> condition key -> values (all must hold); empty unless
    /// `--conditions` added some.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub condition: Conditions,
}

/// A statement's `Condition` element: operator -> condition key -> values, sorted.
pub type Conditions = BTreeMap<String, BTreeMap<String, Vec<String>>>;

/// A policy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    /// Always `2012-10-17`.
    pub version: String,
    /// The statements, in the order they are written (sorted by the synthesizer).
    pub statement: Vec<Statement>,
}

impl PolicyDocument {
    /// The document as IAM counts its size: characters of its JSON, white space excluded.
    pub fn size(&self) -> usize {
        let mut counter = SizeCounter(0);
        match serde_json::to_writer(&mut counter, self) {
            Ok(()) => counter.0,
            Err(_) => 0,
        }
    }

    /// Pretty JSON with a trailing newline; byte-identical for equal documents.
    pub fn to_pretty_json(&self) -> String {
        let mut s = ascii_json(serde_json::to_string_pretty(self).unwrap_or_default());
        s.push('\n');
        s
    }

    /// Number of distinct actions.
    pub fn action_count(&self) -> usize {
        self.statement.iter().map(|s| s.action.len()).sum()
    }
}

/// A written document read as the evaluator reads any policy, without printing and parsing it.
impl From<&PolicyDocument> for super::model::Policy {
    fn from(doc: &PolicyDocument) -> Self {
        use super::model::{Actions, Condition, Resources};
        let statements = doc
            .statement
            .iter()
            .map(|st| super::model::Statement {
                sid: st.sid.clone(),
                effect: st.effect,
                actions: Actions::Only(st.action.clone()),
                resources: Resources::Only(st.resource.clone()),
                conditions: st
                    .condition
                    .iter()
                    .flat_map(|(operator, keys)| {
                        keys.iter().map(move |(key, values)| Condition {
                            operator: operator.clone(),
                            key: key.clone(),
                            values: values.clone(),
                        })
                    })
                    .collect(),
            })
            .collect();
        super::model::Policy { name: "generated".into(), version: Some(doc.version.clone()), statements }
    }
}

/// Counts what [`PolicyDocument::size`] counts of compact JSON text as it is written, without
/// keeping it: the characters of its [`ascii_json`] form, white space excluded.
struct SizeCounter(usize);

impl std::io::Write for SizeCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for &b in buf {
            self.0 += match b {
                // White space.
                b' ' | b'\n' => 0,
                // Printable ASCII.
                0x21..=0x7e => 1,
                // UTF-8 continuation bytes: counted with their lead byte.
                0x80..=0xbf => 0,
                // A character past U+FFFF: a UTF-16 pair, two `\uXXXX`.
                0xf0..=0xff => 12,
                // Any other control character or DEL, or a character up to U+FFFF: one `\uXXXX`.
                _ => 6,
            };
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// JSON text with every character outside printable ASCII written as a `\uXXXX` escape (UTF-16
/// pairs past U+FFFF). IAM accepts policy documents of tab, newline, carriage return and
/// U+0020 to U+00FF only, so a name with DEL, C1, a line separator, an emoji or CJK from a log
/// stays a valid document; JSON readers read back the same string. Outside strings JSON text is
/// ASCII already, so only strings change.
pub(crate) fn ascii_json(text: String) -> String {
    if text.bytes().all(|b| (0x20..0x7f).contains(&b) || b == b'\n') {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if (' '..='~').contains(&c) || c == '\n' {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{:04x}", u));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::model::Policy;

    #[test]
    fn the_size_is_the_count_of_non_space_characters_of_the_ascii_json_text() {
        let by_text = |doc: &PolicyDocument| {
            ascii_json(serde_json::to_string(doc).unwrap()).chars().filter(|c| !c.is_whitespace()).count()
        };
        for sid in [
            "Plain",
            "with space",
            "tab\tand\nnewline",
            "del\u{7f}",
            "é and ü",
            "CJK 漢字",
            "emoji 🦀",
            "\u{2028}",
            "\u{a0}nbsp",
        ] {
            let doc: PolicyDocument = serde_json::from_value(serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{"Sid": sid, "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [format!("arn:aws:s3:::b/{sid}")]}]
            }))
            .unwrap();
            assert_eq!(doc.size(), by_text(&doc), "{sid:?}");
        }
    }

    #[test]
    fn a_written_document_reads_as_the_parser_reads_its_json() {
        let mut condition = Conditions::new();
        condition
            .entry("StringEquals".into())
            .or_default()
            .insert("aws:RequestedRegion".into(), vec!["eu-west-1".into()]);
        condition.entry("Bool".into()).or_default().insert("aws:SecureTransport".into(), vec!["true".into()]);
        let doc = PolicyDocument {
            version: POLICY_VERSION.into(),
            statement: vec![
                Statement {
                    sid: "S3Read".into(),
                    effect: Effect::Allow,
                    action: vec!["s3:GetObject".into(), "s3:ListBucket".into()],
                    resource: vec!["arn:aws:s3:::b/\u{e9}*".into()],
                    condition,
                },
                Statement {
                    sid: "NoIam".into(),
                    effect: Effect::Deny,
                    action: vec!["iam:*".into()],
                    resource: vec!["*".into()],
                    condition: Conditions::new(),
                },
            ],
        };
        assert_eq!(Policy::from(&doc), Policy::parse("generated", &doc.to_pretty_json()).unwrap());
    }
}
