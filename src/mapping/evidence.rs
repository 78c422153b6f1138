//! What a call's outcome proves. A call grants a permission only when authorization passed: it
//! succeeded, or it failed after authorization (`NoSuchKey`, `ResourceNotFoundException`, ...).
//! The reviewed table `action-maps/error-codes.json` classifies error codes; a code it does not
//! list proves nothing until reviewed (or opted in with `--count-error`).

use std::collections::{BTreeSet, HashMap};

use serde::Deserialize;

const ERROR_CODES_JSON: &str = include_str!("../../action-maps/error-codes.json");

/// What an error code says about authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Authorization refused the call: listed as denied, never granted.
    Denied,
    /// The call was authorized, then failed: evidence, like a success.
    AfterAuthorization,
    /// Authentication, validation, throttling, opt-in or a server error: authorization never
    /// ran or is not documented to have passed. No evidence.
    BeforeAuthorization,
}

/// One row of the table.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorCodeRow {
    /// The code as AWS writes it.
    pub code: String,
    /// Its class.
    pub class: ErrorClass,
    /// Why, in a sentence.
    pub why: String,
    /// The AWS documentation page the row rests on.
    pub source: String,
}

#[derive(Deserialize)]
struct RawTable {
    codes: Vec<ErrorCodeRow>,
}

/// The reviewed error-code table.
#[derive(Debug)]
pub struct ErrorCodeTable {
    rows: Vec<ErrorCodeRow>,
    by_code: HashMap<String, usize>,
}

/// How one call ended, as evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome<'e> {
    /// No error code (or an empty one).
    Succeeded,
    /// Failed after authorization passed, or a code the user opted in (`--count-error`).
    FailedAfterAuthorization(&'e str),
    /// Refused by authorization.
    Denied,
    /// Failed before authorization, or with a code not known to come after it.
    NotEvidence(&'e str),
}

/// `Client.UnauthorizedOperation` -> `unauthorizedoperation`.
fn normalize(code: &str) -> String {
    let lower = code.trim().to_ascii_lowercase();
    let bare = lower.strip_prefix("client.").or_else(|| lower.strip_prefix("server.")).unwrap_or(&lower);
    bare.to_string()
}

impl ErrorCodeTable {
    /// The table bundled with iamtrim.
    pub fn embedded() -> &'static ErrorCodeTable {
        static TABLE: std::sync::OnceLock<ErrorCodeTable> = std::sync::OnceLock::new();
        TABLE.get_or_init(|| {
            let raw: RawTable = serde_json::from_str(ERROR_CODES_JSON).unwrap_or(RawTable { codes: Vec::new() });
            let by_code = raw.codes.iter().enumerate().map(|(i, r)| (normalize(&r.code), i)).collect();
            ErrorCodeTable { rows: raw.codes, by_code }
        })
    }

    /// Every row, in table order.
    pub fn rows(&self) -> &[ErrorCodeRow] {
        &self.rows
    }

    /// The row for `code`: exact (case-insensitive, without an EC2 `Client.`/`Server.` prefix),
    /// else the same code with or without a trailing `Exception`.
    pub fn row(&self, code: &str) -> Option<&ErrorCodeRow> {
        let n = normalize(code);
        let alt = match n.strip_suffix("exception") {
            Some(base) => base.to_string(),
            None => format!("{n}exception"),
        };
        self.by_code.get(&n).or_else(|| self.by_code.get(&alt)).map(|&i| &self.rows[i])
    }

    /// The class of `code`; a code the table does not list is [`ErrorClass::BeforeAuthorization`].
    pub fn class(&self, code: &str) -> ErrorClass {
        self.row(code).map_or(ErrorClass::BeforeAuthorization, |r| r.class)
    }
}

/// Error codes the user opted in as evidence (`--count-error CODE`), matched like the table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CountedErrors(BTreeSet<String>);

impl CountedErrors {
    /// From the codes given.
    pub fn new<I: IntoIterator<Item = S>, S: AsRef<str>>(codes: I) -> CountedErrors {
        CountedErrors(codes.into_iter().map(|c| normalize(c.as_ref())).filter(|c| !c.is_empty()).collect())
    }

    /// True when `code` was opted in.
    pub fn contains(&self, code: &str) -> bool {
        self.0.contains(&normalize(code))
    }

    /// True when no code was opted in.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The codes, normalized and sorted (for store keys).
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

/// How a call with `error_code` and `error_message` ended, as evidence.
pub fn outcome<'e>(error_code: Option<&'e str>, error_message: Option<&str>, counted: &CountedErrors) -> Outcome<'e> {
    let denied_message = error_message
        .is_some_and(|m| m.contains("is not authorized to perform") || m.contains("not authorized to perform:"));
    let code = match error_code.map(str::trim).filter(|c| !c.is_empty()) {
        None if denied_message => return Outcome::Denied,
        None => return Outcome::Succeeded,
        Some(c) => c,
    };
    match ErrorCodeTable::embedded().class(code) {
        ErrorClass::Denied => Outcome::Denied,
        _ if denied_message => Outcome::Denied,
        _ if counted.contains(code) => Outcome::FailedAfterAuthorization(code),
        ErrorClass::AfterAuthorization => Outcome::FailedAfterAuthorization(code),
        ErrorClass::BeforeAuthorization => Outcome::NotEvidence(code),
    }
}

impl crate::ingest::event::Event<'_> {
    /// True when the error code (or message) says authorization refused the call
    /// (`action-maps/error-codes.json`, class `denied`). Here, not in `ingest`, because the
    /// error-code table is the mapping stage's.
    pub fn is_denied(&self) -> bool {
        outcome(self.error_code.as_deref(), self.error_message.as_deref(), &CountedErrors::default()) == Outcome::Denied
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_case_insensitively_with_and_without_prefix_and_suffix() {
        let t = ErrorCodeTable::embedded();
        assert_eq!(t.class("Client.UnauthorizedOperation"), ErrorClass::Denied);
        assert_eq!(t.class("accessdenied"), ErrorClass::Denied);
        assert_eq!(t.class("Client.DryRunOperation"), ErrorClass::AfterAuthorization);
        assert_eq!(t.class("NoSuchEntityException"), ErrorClass::AfterAuthorization);
        assert_eq!(t.class("SomethingNobodyListed"), ErrorClass::BeforeAuthorization);
    }

    #[test]
    fn outcomes_follow_the_table_the_message_and_the_opt_ins() {
        let none = CountedErrors::default();
        assert_eq!(outcome(None, None, &none), Outcome::Succeeded);
        assert_eq!(outcome(Some(""), None, &none), Outcome::Succeeded);
        assert_eq!(outcome(Some("NoSuchKey"), None, &none), Outcome::FailedAfterAuthorization("NoSuchKey"));
        assert_eq!(outcome(Some("ValidationException"), None, &none), Outcome::NotEvidence("ValidationException"));
        assert_eq!(outcome(None, Some("User: x is not authorized to perform: s3:GetObject"), &none), Outcome::Denied);
        assert_eq!(outcome(Some("Weird"), Some("is not authorized to perform"), &none), Outcome::Denied);
        let opted = CountedErrors::new(["LimitExceededException"]);
        assert_eq!(outcome(Some("LimitExceeded"), None, &opted), Outcome::NotEvidence("LimitExceeded"));
        assert_eq!(
            outcome(Some("limitexceededexception"), None, &opted),
            Outcome::FailedAfterAuthorization("limitexceededexception")
        );
        // Opting in never turns a denial into evidence.
        assert_eq!(outcome(Some("AccessDenied"), None, &CountedErrors::new(["AccessDenied"])), Outcome::Denied);
    }
}
