//! What IAM Access Analyzer's `CheckNoNewAccess` is asked, and what it answered: the role's
//! current identity policies merged into one document (one policy type, as the API compares),
//! the trimmed policy as the other. A value a template leaves unknown cannot be sent as it is
//! (Access Analyzer would read the placeholder as a policy variable that may match), so the
//! existing document is only ever made narrower: an Allow statement holding one is left out, a
//! Deny holding one is widened to every resource without conditions. A PASS is then still a
//! proof; a FAIL may come from what was left out, and the answer lists it. Prints nothing.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::policy::evaluator::PolicySet;
use crate::policy::model::{Actions, Effect, Policy, Resources, Statement};
use crate::policy::template::has_unknown;

/// The two documents of one `CheckNoNewAccess` call (`policyType` `IDENTITY_POLICY`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckDocuments {
    /// The current identity policies, merged (JSON text).
    pub existing: String,
    /// The trimmed policy (JSON text).
    pub new: String,
    /// What of the current policies was changed to be sent, each with why.
    pub left_out: Vec<String>,
    /// Why the check cannot be asked at all (the trimmed policy holds an unknown), if so.
    pub cannot_check: Option<String>,
}

/// Access Analyzer's answer for one role, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccessAnalyzerCheck {
    /// `PASS` (no new access), `FAIL` (the trimmed policy may allow new access), or `ERROR`
    /// (the check did not run: `error` says why).
    pub result: String,
    /// Access Analyzer's message.
    pub message: String,
    /// Its reasons, each naming a statement of the trimmed policy.
    pub reasons: Vec<CheckReason>,
    /// What of the current policies was left out or widened before sending.
    pub left_out: Vec<String>,
    /// Why the check did not run.
    pub error: Option<String>,
}

/// One reason of a `CheckNoNewAccess` answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckReason {
    /// What it says.
    pub description: String,
    /// The statement of the trimmed policy, by Sid.
    pub statement_id: Option<String>,
    /// The statement of the trimmed policy, by position (0-based).
    pub statement_index: Option<i32>,
}

impl AccessAnalyzerCheck {
    /// True on `PASS`.
    pub fn passed(&self) -> bool {
        self.result == "PASS"
    }

    /// The check could not be made: `why`.
    pub fn not_run(why: String, left_out: Vec<String>) -> AccessAnalyzerCheck {
        AccessAnalyzerCheck {
            result: "ERROR".into(),
            message: String::new(),
            reasons: Vec::new(),
            left_out,
            error: Some(why),
        }
    }
}

fn statement_has_unknown(st: &Statement) -> bool {
    let (Actions::Only(a) | Actions::AllBut(a)) = &st.actions;
    let (Resources::Only(r) | Resources::AllBut(r)) = &st.resources;
    a.iter().chain(r).any(|s| has_unknown(s))
        || st.conditions.iter().any(|c| has_unknown(&c.key) || c.values.iter().any(|v| has_unknown(v)))
}

/// One document of `statements`, each Sid made unique (IAM refuses a document with two equal
/// Sids; merged policies often have them).
fn document(statements: Vec<Statement>) -> String {
    let mut seen = BTreeSet::new();
    let values: Vec<Value> = statements
        .into_iter()
        .map(|mut st| {
            if !st.sid.starts_with('#') {
                let base: String = st.sid.chars().filter(char::is_ascii_alphanumeric).collect();
                let mut sid = base.clone();
                let mut n = 2;
                while sid.is_empty() || !seen.insert(sid.clone()) {
                    sid = format!("{base}{n}");
                    n += 1;
                }
                st.sid = sid;
            }
            st.to_value()
        })
        .collect();
    serde_json::to_string(&serde_json::json!({"Version": "2012-10-17", "Statement": values})).unwrap_or_default()
}

/// The documents to ask Access Analyzer whether `trimmed` grants anything `current`'s identity
/// policies do not (its boundary is kept as it is and not sent: it bounds both alike).
pub fn documents_for_check(current: &PolicySet, trimmed: &Policy) -> CheckDocuments {
    let mut left_out = Vec::new();
    let mut statements = Vec::new();
    for p in &current.identity {
        for st in &p.statements {
            if !statement_has_unknown(st) {
                statements.push(st.clone());
                continue;
            }
            match st.effect {
                Effect::Allow => left_out.push(format!(
                    "{} statement {}: left out (it holds a value the template leaves unknown)",
                    p.name, st.sid
                )),
                Effect::Deny => {
                    let mut wide = st.clone();
                    wide.resources = Resources::Only(vec!["*".into()]);
                    wide.conditions.clear();
                    let (Actions::Only(a) | Actions::AllBut(a)) = &wide.actions;
                    if a.iter().any(|x| has_unknown(x)) {
                        wide.actions = Actions::Only(vec!["*".into()]);
                    }
                    left_out.push(format!(
                        "{} Deny statement {}: sent as a Deny of every resource without conditions (it holds a value the template leaves unknown)",
                        p.name, st.sid
                    ));
                    statements.push(wide);
                }
            }
        }
    }
    let cannot_check = trimmed
        .statements
        .iter()
        .any(statement_has_unknown)
        .then(|| "the trimmed policy holds a value left unknown: nothing to send".to_string());
    CheckDocuments { existing: document(statements), new: document(trimmed.statements.clone()), left_out, cannot_check }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(docs: &[&str]) -> PolicySet {
        PolicySet {
            identity: docs.iter().enumerate().map(|(i, d)| Policy::parse(&format!("p{i}"), d).unwrap()).collect(),
            boundary: None,
        }
    }

    fn statements(doc: &str) -> Vec<Value> {
        serde_json::from_str::<Value>(doc).unwrap()["Statement"].as_array().unwrap().clone()
    }

    #[test]
    fn the_current_policies_are_merged_into_one_identity_document_with_unique_sids() {
        let current = set(&[
            r#"{"Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
            r#"{"Statement":[{"Sid":"Read","Effect":"Allow","Action":"sqs:ReceiveMessage","Resource":"*"},{"Effect":"Allow","Action":"sns:Publish","Resource":"*"}]}"#,
        ]);
        let trimmed =
            Policy::parse("t", r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#).unwrap();
        let docs = documents_for_check(&current, &trimmed);
        let sts = statements(&docs.existing);
        assert_eq!(sts.len(), 3);
        let sids: Vec<&str> = sts.iter().filter_map(|s| s["Sid"].as_str()).collect();
        assert_eq!(sids, ["Read", "Read2"]);
        assert!(docs.left_out.is_empty() && docs.cannot_check.is_none());
        assert_eq!(statements(&docs.new).len(), 1);
    }

    #[test]
    fn an_unknown_value_only_ever_narrows_what_is_sent_as_existing() {
        let current = set(&[r#"{"Statement":[
            {"Sid":"Bucket","Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::${unknown:Bucket}/*"},
            {"Sid":"Keep","Effect":"Allow","Action":"sqs:*","Resource":"*"},
            {"Sid":"NoDelete","Effect":"Deny","Action":"sqs:DeleteQueue","Resource":"arn:aws:sqs:*:*:${unknown:Queue}","Condition":{"StringEquals":{"aws:PrincipalTag/team":"a"}}}]}"#]);
        let trimmed =
            Policy::parse("t", r#"{"Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}"#)
                .unwrap();
        let docs = documents_for_check(&current, &trimmed);
        let sts = statements(&docs.existing);
        assert!(!docs.existing.contains("${unknown:"), "{}", docs.existing);
        assert_eq!(sts.len(), 2, "the Allow with an unknown is left out");
        assert_eq!(sts[1]["Effect"], "Deny");
        assert_eq!(sts[1]["Resource"], serde_json::json!(["*"]), "the Deny is widened to every resource");
        assert!(sts[1].get("Condition").is_none(), "and loses its conditions");
        assert_eq!(docs.left_out.len(), 2);
    }

    #[test]
    fn a_trimmed_policy_with_an_unknown_is_not_sent() {
        let trimmed = Policy::parse(
            "t",
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::${unknown:B}/*"}]}"#,
        )
        .unwrap();
        assert!(documents_for_check(&set(&[]), &trimmed).cannot_check.is_some());
    }
}
