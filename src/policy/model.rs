//! IAM policy documents as written by people and AWS: `Statement` as an object or an array,
//! strings or arrays everywhere, `Action`/`NotAction`, `Resource`/`NotResource`, `Condition`
//! with every operator kept (`...IfExists`, `ForAllValues:`/`ForAnyValue:`), policy variables.
//! Invalid documents give an error naming the statement and the field.

use serde_json::Value;

/// A parsed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Where it came from (file, policy name or ARN), for reports.
    pub name: String,
    /// `Version`, when given.
    pub version: Option<String>,
    /// Statements in document order.
    pub statements: Vec<Statement>,
}

/// `Allow` or `Deny`: the one effect of policies written and read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Effect {
    /// Grants.
    Allow,
    /// Refuses, overriding any grant.
    Deny,
}

/// `Action` or `NotAction` patterns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actions {
    /// Matches the listed patterns.
    Only(Vec<String>),
    /// Matches everything but the listed patterns.
    AllBut(Vec<String>),
}

/// `Resource` or `NotResource` patterns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resources {
    /// Matches the listed patterns.
    Only(Vec<String>),
    /// Matches everything but the listed patterns.
    AllBut(Vec<String>),
}

/// One condition: `"StringEquals": {"aws:RequestedRegion": ["eu-west-1"]}` is operator
/// `StringEquals`, key `aws:RequestedRegion`, values `["eu-west-1"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The operator as written, e.g. `ForAnyValue:StringLikeIfExists`.
    pub operator: String,
    /// The condition key.
    pub key: String,
    /// Values as strings (numbers and booleans are kept in their JSON text).
    pub values: Vec<String>,
}

impl Condition {
    /// The operator without `ForAllValues:`/`ForAnyValue:` and `IfExists`.
    pub(crate) fn base_operator(&self) -> &str {
        let op = self.operator.split_once(':').map_or(self.operator.as_str(), |(_, o)| o);
        op.strip_suffix("IfExists").unwrap_or(op)
    }
    /// `ForAllValues` or `ForAnyValue`, when given.
    pub(crate) fn set_operator(&self) -> Option<&str> {
        self.operator.split_once(':').map(|(s, _)| s)
    }
    /// True for `...IfExists`.
    pub(crate) fn if_exists(&self) -> bool {
        self.operator.ends_with("IfExists")
    }
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// `Sid`, or `#N` (1-based position) when absent.
    pub sid: String,
    /// Whether the statement grants or refuses.
    pub effect: Effect,
    /// The actions it covers, as written (patterns with `*` and `?`).
    pub actions: Actions,
    /// Resources (`Only(["*"])` when the statement names none, as in trust-less identity policies).
    pub resources: Resources,
    /// Conditions, all of which must hold.
    pub conditions: Vec<Condition>,
}

/// A document that is not a valid IAM policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy `{policy}`: {place}: {message}")]
pub struct PolicyError {
    /// The policy.
    pub policy: String,
    /// `Statement[2] (Sid "S3")` / `Version` / `document`.
    pub place: String,
    /// What is wrong, naming the field.
    pub message: String,
}

const OPERATOR_BASES: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
];

impl Policy {
    /// Parses a policy document (JSON text). `name` is used in errors and reports.
    pub fn parse(name: &str, text: &str) -> Result<Policy, PolicyError> {
        let err =
            |place: &str, message: String| PolicyError { policy: name.to_string(), place: place.to_string(), message };
        let doc: Value = serde_json::from_str(text).map_err(|e| err("document", format!("not JSON: {e}")))?;
        Policy::from_value(name, &doc)
    }

    /// Parses a policy document already read as JSON.
    pub(crate) fn from_value(name: &str, doc: &Value) -> Result<Policy, PolicyError> {
        let err = |place: String, message: String| PolicyError { policy: name.to_string(), place, message };
        let obj = doc.as_object().ok_or_else(|| err("document".into(), "a policy is a JSON object".into()))?;
        let version = match obj.get("Version") {
            None => None,
            Some(Value::String(v)) if v == "2012-10-17" || v == "2008-10-17" => Some(v.clone()),
            Some(v) => return Err(err("Version".into(), format!("`{v}` is not 2012-10-17 or 2008-10-17"))),
        };
        let raw: Vec<&Value> = match obj.get("Statement") {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(v @ Value::Object(_)) => vec![v],
            Some(_) => return Err(err("Statement".into(), "must be an object or an array of objects".into())),
            None => return Err(err("document".into(), "has no `Statement`".into())),
        };
        let mut statements = Vec::with_capacity(raw.len());
        for (i, st) in raw.into_iter().enumerate() {
            statements.push(parse_statement(i, st).map_err(|(place, message)| err(place, message))?);
        }
        Ok(Policy { name: name.to_string(), version, statements })
    }
}

impl Statement {
    /// The statement as IAM writes it (`Sid` left out when it had none; condition values as
    /// strings, which IAM reads the same).
    pub fn to_value(&self) -> Value {
        let mut obj = serde_json::Map::new();
        if !self.sid.starts_with('#') {
            obj.insert("Sid".into(), Value::String(self.sid.clone()));
        }
        let effect = match self.effect {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        };
        obj.insert("Effect".into(), Value::String(effect.into()));
        let list = |v: &[String]| Value::Array(v.iter().cloned().map(Value::String).collect());
        match &self.actions {
            Actions::Only(a) => obj.insert("Action".into(), list(a)),
            Actions::AllBut(a) => obj.insert("NotAction".into(), list(a)),
        };
        match &self.resources {
            Resources::Only(r) => obj.insert("Resource".into(), list(r)),
            Resources::AllBut(r) => obj.insert("NotResource".into(), list(r)),
        };
        if !self.conditions.is_empty() {
            let mut ops = serde_json::Map::new();
            for c in &self.conditions {
                let keys = ops.entry(c.operator.clone()).or_insert_with(|| Value::Object(Default::default()));
                if let Value::Object(keys) = keys {
                    keys.insert(c.key.clone(), list(&c.values));
                }
            }
            obj.insert("Condition".into(), Value::Object(ops));
        }
        Value::Object(obj)
    }
}

fn strings(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(a) => a.iter().map(|x| x.as_str().map(str::to_string)).collect(),
        _ => None,
    }
}

fn condition_values(v: &Value) -> Option<Vec<String>> {
    let one = |x: &Value| match x {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match v {
        Value::Array(a) => a.iter().map(one).collect(),
        other => one(other).map(|s| vec![s]),
    }
}

fn parse_statement(i: usize, st: &Value) -> Result<Statement, (String, String)> {
    let obj = st.as_object().ok_or_else(|| (format!("Statement[{i}]"), "a statement is a JSON object".to_string()))?;
    let sid = obj.get("Sid").and_then(Value::as_str).map(str::to_string);
    let place = match &sid {
        Some(s) => format!("Statement[{i}] (Sid \"{s}\")"),
        None => format!("Statement[{i}]"),
    };
    let fail = |field: &str, message: &str| (place.clone(), format!("`{field}` {message}"));
    let effect = match obj.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        Some(other) => return Err(fail("Effect", &format!("is `{other}`, not Allow or Deny"))),
        None => return Err(fail("Effect", "is missing")),
    };
    let list = |field: &str| -> Result<Option<Vec<String>>, (String, String)> {
        match obj.get(field) {
            None => Ok(None),
            Some(v) => match strings(v) {
                Some(l) if !l.is_empty() => Ok(Some(l)),
                Some(_) => Err(fail(field, "is empty")),
                None => Err(fail(field, "must be a string or an array of strings")),
            },
        }
    };
    let actions = match (list("Action")?, list("NotAction")?) {
        (Some(a), None) => Actions::Only(a),
        (None, Some(n)) => Actions::AllBut(n),
        (Some(_), Some(_)) => return Err(fail("Action", "and `NotAction` cannot both be given")),
        (None, None) => return Err(fail("Action", "(or `NotAction`) is missing")),
    };
    for a in match &actions {
        Actions::Only(v) | Actions::AllBut(v) => v,
    } {
        if a != "*" && !a.contains(':') {
            return Err(fail("Action", &format!("`{a}` is not `service:Action`")));
        }
    }
    let resources = match (list("Resource")?, list("NotResource")?) {
        (Some(r), None) => Resources::Only(r),
        (None, Some(n)) => Resources::AllBut(n),
        (Some(_), Some(_)) => return Err(fail("Resource", "and `NotResource` cannot both be given")),
        (None, None) => Resources::Only(vec!["*".to_string()]),
    };
    let mut conditions = Vec::new();
    if let Some(c) = obj.get("Condition") {
        let ops = c.as_object().ok_or_else(|| fail("Condition", "must be an object of operators"))?;
        for (operator, keys) in ops {
            let base = operator.split_once(':').map_or(operator.as_str(), |(set, o)| {
                if set != "ForAllValues" && set != "ForAnyValue" {
                    ""
                } else {
                    o
                }
            });
            let base = base.strip_suffix("IfExists").unwrap_or(base);
            if !OPERATOR_BASES.contains(&base) {
                return Err(fail("Condition", &format!("operator `{operator}` is not an IAM condition operator")));
            }
            let keys = keys
                .as_object()
                .ok_or_else(|| fail("Condition", &format!("`{operator}` must map condition keys to values")))?;
            for (key, values) in keys {
                let values = condition_values(values).ok_or_else(|| {
                    fail("Condition", &format!("`{operator}` `{key}` values must be strings, numbers or booleans"))
                })?;
                conditions.push(Condition { operator: operator.clone(), key: key.clone(), values });
            }
        }
    }
    Ok(Statement { sid: sid.unwrap_or_else(|| format!("#{}", i + 1)), effect, actions, resources, conditions })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_object_or_array_and_strings_or_arrays() {
        let p = Policy::parse("p", r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#).unwrap();
        assert_eq!(p.statements.len(), 1);
        assert_eq!(p.statements[0].actions, Actions::Only(vec!["s3:GetObject".into()]));
        assert_eq!(p.statements[0].sid, "#1");
        let p = Policy::parse(
            "p",
            r#"{"Statement":[{"Sid":"A","Effect":"Deny","NotAction":["iam:*","sts:*"],"NotResource":"arn:aws:s3:::x",
                "Condition":{"ForAnyValue:StringLikeIfExists":{"aws:TagKeys":["a*","b"]},"NumericLessThan":{"s3:max-keys":10},"Bool":{"aws:SecureTransport":false}}}]}"#,
        )
        .unwrap();
        let s = &p.statements[0];
        assert_eq!(s.effect, Effect::Deny);
        assert_eq!(s.actions, Actions::AllBut(vec!["iam:*".into(), "sts:*".into()]));
        assert_eq!(s.resources, Resources::AllBut(vec!["arn:aws:s3:::x".into()]));
        let c = s.conditions.iter().find(|c| c.key == "aws:TagKeys").unwrap();
        assert_eq!((c.base_operator(), c.set_operator(), c.if_exists()), ("StringLike", Some("ForAnyValue"), true));
        assert_eq!(s.conditions.iter().find(|c| c.key == "s3:max-keys").unwrap().values, ["10"]);
        assert_eq!(s.conditions.iter().find(|c| c.key == "aws:SecureTransport").unwrap().values, ["false"]);
    }

    #[test]
    fn a_statement_written_back_parses_to_the_same_statement() {
        let text = r#"{"Statement":[{"Sid":"A","Effect":"Deny","NotAction":["iam:*"],"NotResource":"arn:aws:s3:::x",
            "Condition":{"StringLike":{"aws:TagKeys":["a*"]},"NumericLessThan":{"s3:max-keys":10}}},
            {"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
        let p = Policy::parse("p", text).unwrap();
        let back = serde_json::json!({"Version": "2012-10-17",
            "Statement": p.statements.iter().map(Statement::to_value).collect::<Vec<_>>()});
        let again = Policy::from_value("p", &back).unwrap();
        assert_eq!(again.statements, p.statements);
        assert!(back["Statement"][1].get("Sid").is_none(), "a statement without a Sid gets none");
    }

    #[test]
    fn invalid_documents_name_the_statement_and_field() {
        let cases = [
            (
                r#"{"Statement":[{"Effect":"Allow","Resource":"*"}]}"#,
                "Statement[0]: `Action` (or `NotAction`) is missing",
            ),
            (
                r#"{"Statement":[{"Sid":"X","Effect":"Permit","Action":"s3:*"}]}"#,
                "Statement[0] (Sid \"X\"): `Effect` is `Permit`",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","NotAction":"iam:*"}]}"#,
                "`Action` and `NotAction` cannot both be given",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:*"},{"Effect":"Allow","Action":5}]}"#,
                "Statement[1]: `Action` must be a string",
            ),
            (r#"{"Statement":[{"Effect":"Allow","Action":"GetObject"}]}"#, "`GetObject` is not `service:Action`"),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Condition":{"StringSorta":{"k":"v"}}}]}"#,
                "operator `StringSorta`",
            ),
            (r#"{"Version":"2020-01-01","Statement":[]}"#, "Version: `\"2020-01-01\"`"),
            (r#"{"Statement":"nope"}"#, "Statement: must be an object or an array"),
            (r#"[1,2]"#, "document: a policy is a JSON object"),
            (r#"{"Statement": ["#, "document: not JSON"),
        ];
        for (doc, want) in cases {
            let e = Policy::parse("test.json", doc).unwrap_err().to_string();
            assert!(e.contains(want), "{doc}: got `{e}`, want `{want}`");
            assert!(e.starts_with("policy `test.json`"));
        }
    }
}
