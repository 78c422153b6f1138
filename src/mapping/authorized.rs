//! Operations whose IAM action is not their name (DynamoDB transactions and PartiQL, Bedrock
//! Converse, API Gateway's HTTP-method actions, SNS PublishBatch, ...), from AWS's Service
//! Reference (`action-maps/authorized-actions.json`): the action the operation always needs is
//! granted; the others only when their trigger is in the request (a role passed, tags, a
//! request field, a PartiQL verb); the rest never.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::implied::{ROLE_PARAMETERS, TAG_PARAMETERS};
use super::mapper::{ActionUse, Call, EventMapper, Resolution};
use super::params::{is_empty_value, path_values, string_values};
use super::resources::Context;

/// One action of `action-maps/authorized-actions.json`: an action AWS's Service Reference lists
/// for an operation whose name is not an action, and when iamtrim grants it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct AuthorizedAction {
    /// `prefix:Action`.
    pub action: String,
    /// When it is granted.
    pub when: Trigger,
    /// The rule that decided it (a key of the table's `rules`).
    pub rule: String,
}

/// When an action of [`AuthorizedAction`] is granted. A value not listed here fails when the
/// table loads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum Trigger {
    /// Every call needs it.
    Always,
    /// Only when the request passes a role.
    Role,
    /// Only when the request carries tags.
    Tags,
    /// Only when the request carries this field (a path such as `transactItems[].put`).
    Field(String),
    /// Only for PartiQL statements of this verb (`SELECT`, `INSERT`, `UPDATE`, `DELETE`).
    PartiQl(String),
    /// Needed only in configurations the event does not show: never granted.
    Never,
}

impl TryFrom<String> for Trigger {
    type Error = String;
    fn try_from(s: String) -> Result<Trigger, String> {
        Ok(match s.as_str() {
            "always" => Trigger::Always,
            "role" => Trigger::Role,
            "tags" => Trigger::Tags,
            "never" => Trigger::Never,
            _ => match s.split_once(':') {
                Some(("field", path)) if !path.is_empty() => Trigger::Field(path.to_string()),
                Some(("partiql", verb)) if matches!(verb, "SELECT" | "INSERT" | "UPDATE" | "DELETE") => {
                    Trigger::PartiQl(verb.to_string())
                }
                _ => return Err(format!("`{s}` is no trigger (always, role, tags, field:PATH, partiql:VERB, never)")),
            },
        })
    }
}

impl EventMapper<'_> {
    /// The actions of `entries` the request shows it needed, with their resources; empty when
    /// every action depends on what the record does not show.
    pub(super) fn map_authorized(
        &self,
        entries: &[AuthorizedAction],
        call: &Call<'_>,
        params: &Map<String, Value>,
    ) -> Vec<ActionUse> {
        let ctx = &call.ctx;
        let statements = partiql_statements(params);
        let mut uses = Vec::new();
        for entry in entries {
            let Some(action) = self.catalog.action_by_name(&entry.action) else { continue };
            match &entry.when {
                Trigger::Never => {}
                Trigger::Always => uses.push(self.resolve_authorized(action, None, call, params)),
                Trigger::Field(path) => {
                    if !path_values(params, path).is_empty()
                        || params.get(path.as_str()).is_some_and(|v| !is_empty_value(v))
                        || path_present(params, path)
                    {
                        uses.push(self.resolve_authorized(action, Some(path), call, params));
                    }
                }
                Trigger::Tags => {
                    if TAG_PARAMETERS.iter().any(|k| params.get(*k).is_some_and(|v| !is_empty_value(v))) {
                        uses.push(self.resolve_authorized(action, None, call, params));
                    }
                }
                Trigger::Role => {
                    let roles: BTreeSet<String> = ROLE_PARAMETERS
                        .iter()
                        .flat_map(|k| string_values(params.get(*k)))
                        .filter(|v| v.starts_with("arn:") && v.contains(":role/"))
                        .collect();
                    if !roles.is_empty() {
                        uses.push(ActionUse {
                            action: action.name.clone(),
                            resources: roles.into_iter().collect(),
                            resolution: Resolution::Parameters,
                            implied_by: Some(format!(
                                "{} passes the role; CloudTrail never logs iam:PassRole",
                                call.event_name
                            )),
                        });
                    }
                }
                Trigger::PartiQl(verb) => {
                    let tables: BTreeSet<String> =
                        statements.iter().filter(|s| s.verb == *verb).filter_map(|s| s.arn(ctx)).collect();
                    if statements.iter().any(|s| s.verb == *verb) {
                        uses.push(
                            if tables.is_empty() || statements.iter().any(|s| s.verb == *verb && s.table.is_none()) {
                                self.wildcard(action, ctx)
                            } else {
                                ActionUse {
                                    action: action.name.clone(),
                                    resources: tables.into_iter().collect(),
                                    resolution: Resolution::Parameters,
                                    implied_by: None,
                                }
                            },
                        );
                    }
                }
            }
        }
        uses
    }

    /// Resources of an authorized action: a Bedrock model from `modelId`; below a triggering
    /// field (a transaction item), the table it names; else as any action's.
    fn resolve_authorized(
        &self,
        action: &crate::mapping::catalog::Action,
        field: Option<&str>,
        call: &Call<'_>,
        params: &Map<String, Value>,
    ) -> ActionUse {
        let ctx = &call.ctx;
        if action.name == "bedrock:ApplyGuardrail" {
            let (region, account) = (ctx.region_or_any(), ctx.account_or_any());
            let guardrails: BTreeSet<String> = path_values(params, "guardrailConfig.guardrailIdentifier")
                .into_iter()
                .chain(string_values(params.get("guardrailIdentifier")))
                // Parameter values are literal patterns already (`string_values`).
                .map(|g| match g.starts_with("arn:") {
                    true => g,
                    false => format!("arn:{}:bedrock:{region}:{account}:guardrail/{g}", ctx.partition),
                })
                .collect();
            if !guardrails.is_empty() {
                return ActionUse {
                    action: action.name.clone(),
                    resources: guardrails.into_iter().collect(),
                    resolution: Resolution::Parameters,
                    implied_by: None,
                };
            }
            return self.wildcard(action, ctx);
        }
        if action.prefix() == "apigateway" {
            if let Some(found) = self.api_gateway_path(action, call.event_name, params, ctx) {
                return found;
            }
        }
        if action.prefix() == "dynamodb" && field.is_none() {
            let tables: BTreeSet<String> = ["get", "put", "update", "delete", "conditionCheck"]
                .iter()
                .flat_map(|k| path_values(params, &format!("transactItems[].{k}.tableName")))
                .collect();
            if !tables.is_empty() {
                return self.dynamodb_tables(action, &tables, ctx);
            }
        }
        if action.name.starts_with("bedrock:InvokeModel") {
            let models = bedrock_model_arns(params, ctx);
            if !models.is_empty() && action.has_resources() {
                return ActionUse {
                    action: action.name.clone(),
                    resources: models.into_iter().collect(),
                    resolution: Resolution::Parameters,
                    implied_by: None,
                };
            }
        }
        if let Some(path) = field {
            let tables: BTreeSet<String> = path_values(params, &format!("{path}.tableName")).into_iter().collect();
            if !tables.is_empty() && action.prefix() == "dynamodb" {
                return self.dynamodb_tables(action, &tables, ctx);
            }
        }
        self.resolve(action, None, call, params)
    }

    /// `action` on the DynamoDB tables named in the request.
    fn dynamodb_tables(
        &self,
        action: &crate::mapping::catalog::Action,
        tables: &BTreeSet<String>,
        ctx: &Context,
    ) -> ActionUse {
        ActionUse {
            action: action.name.clone(),
            resources: tables.iter().map(|t| ctx.dynamodb_table_arn(t, None)).collect(),
            resolution: Resolution::Parameters,
            implied_by: None,
        }
    }

    /// API Gateway authorizes the HTTP method on the path of what the operation acts on: the
    /// resource type named by the operation's noun (`GetRestApi` -> `restapi`,
    /// `CreateDeployment` -> `deployments`), its template filled from the request.
    fn api_gateway_path(
        &self,
        action: &crate::mapping::catalog::Action,
        operation: &str,
        params: &Map<String, Value>,
        ctx: &Context,
    ) -> Option<ActionUse> {
        let verb_end = operation[1..].find(|c: char| c.is_ascii_uppercase()).map(|i| i + 1)?;
        let (verb, noun) = operation.split_at(verb_end);
        let noun = noun.to_ascii_lowercase();
        // Create acts on the collection; Get of a plural noun reads the collection.
        let types = if verb == "Create" || verb == "Import" { vec![format!("{noun}s"), noun] } else { vec![noun] };
        for rtype in types {
            let mut arns = BTreeSet::new();
            for template in self.catalog.templates("apigateway", &rtype) {
                let vars: Vec<&str> = template.request_variables().collect();
                let values: Vec<Vec<String>> =
                    vars.iter().map(|v| super::params::parameter_values(v, params)).collect();
                if values.iter().any(Vec::is_empty) {
                    continue;
                }
                arns.extend(super::resources::fill_all(template, ctx, &vars, &values));
            }
            if !arns.is_empty() {
                return Some(ActionUse {
                    action: action.name.clone(),
                    resources: arns.into_iter().collect(),
                    resolution: Resolution::Parameters,
                    implied_by: None,
                });
            }
        }
        None
    }
}

/// True when `path` (`a[].b`) names a member present in some element, even an empty object.
fn path_present(params: &Map<String, Value>, path: &str) -> bool {
    let Some((head, rest)) = path.split_once("[].") else { return false };
    params.get(head).and_then(Value::as_array).is_some_and(|items| {
        items.iter().any(|i| i.as_object().is_some_and(|o| o.get(rest).is_some_and(|v| !v.is_null())))
    })
}

/// Bedrock `modelId`: a foundation model ID (`anthropic.claude-3-haiku-20240307-v1:0`) is
/// `foundation-model/ID` with no account; a cross-region inference profile
/// (`us.anthropic...`) is the profile in the account and the foundation model in every region
/// it routes to; an ARN is taken as it is.
fn bedrock_model_arns(params: &Map<String, Value>, ctx: &Context) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for id in string_values(params.get("modelId")) {
        // A literal pattern already (`string_values`).
        if id.starts_with("arn:") {
            out.insert(id);
            continue;
        }
        let region = ctx.region_or_any();
        let profile =
            ["us.", "eu.", "apac.", "us-gov.", "ca.", "jp.", "au.", "global."].iter().find(|p| id.starts_with(**p));
        match profile {
            Some(p) => {
                let account = ctx.account_or_any();
                out.insert(format!("arn:{}:bedrock:{region}:{account}:inference-profile/{id}", ctx.partition));
                out.insert(format!("arn:{}:bedrock:*::foundation-model/{}", ctx.partition, &id[p.len()..]));
            }
            None => {
                out.insert(format!("arn:{}:bedrock:{region}::foundation-model/{id}", ctx.partition));
            }
        }
    }
    out
}

/// One PartiQL statement of a request: its verb and the table (and index) it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PartiQlStatement {
    /// `SELECT`, `INSERT`, `UPDATE`, `DELETE`.
    pub(super) verb: String,
    /// The table, when the statement names one iamtrim can read.
    pub(super) table: Option<String>,
    /// The index of a `SELECT ... FROM "table"."index"`.
    pub(super) index: Option<String>,
}

impl PartiQlStatement {
    /// The table (or index) ARN in the event's account and region.
    fn arn(&self, ctx: &Context) -> Option<String> {
        Some(ctx.dynamodb_table_arn(self.table.as_deref()?, self.index.as_deref()))
    }
}

/// The statements of ExecuteStatement (`statement`), BatchExecuteStatement
/// (`statements[].statement`) and ExecuteTransaction (`transactStatements[].statement`).
pub(super) fn partiql_statements(params: &Map<String, Value>) -> Vec<PartiQlStatement> {
    string_values(params.get("statement"))
        .into_iter()
        .chain(path_values(params, "statements[].statement"))
        .chain(path_values(params, "transactStatements[].statement"))
        .filter_map(|s| parse_partiql(&s))
        .collect()
}

/// Reads the verb and table of one PartiQL statement: `SELECT ... FROM "t"."i"`,
/// `INSERT INTO "t" ...`, `UPDATE "t" ...`, `DELETE FROM "t" ...`. A statement that is not one of
/// these (or hidden by CloudTrail) gives `None`.
pub(super) fn parse_partiql(statement: &str) -> Option<PartiQlStatement> {
    let s = statement.trim_start();
    let verb_end = s.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(s.len());
    let verb = s[..verb_end].to_ascii_uppercase();
    if !matches!(verb.as_str(), "SELECT" | "INSERT" | "UPDATE" | "DELETE") {
        return None;
    }
    let upper = s.to_ascii_uppercase();
    let after = match verb.as_str() {
        "SELECT" | "DELETE" => keyword_end(&upper, "FROM"),
        "INSERT" => keyword_end(&upper, "INTO"),
        _ => Some(verb_end),
    };
    let (table, index) = match after {
        Some(at) => {
            let (t, rest) = identifier(&s[at..]);
            let index = rest.strip_prefix('.').map(|r| identifier(r).0).filter(|i| !i.is_empty());
            (Some(t).filter(|t| !t.is_empty()), index.filter(|_| verb == "SELECT"))
        }
        None => (None, None),
    };
    Some(PartiQlStatement { verb, table, index })
}

/// The offset just after the keyword `word` standing alone outside quotes, if any.
fn keyword_end(upper: &str, word: &str) -> Option<usize> {
    let bytes = upper.as_bytes();
    let mut quoted = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' => quoted = !quoted,
            _ if !quoted && upper[i..].starts_with(word) => {
                let before = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
                let after = bytes.get(i + word.len()).is_none_or(|b| !b.is_ascii_alphanumeric());
                if before && after {
                    return Some(i + word.len());
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// A PartiQL identifier at the start of `s` (after white space): `"quoted"` or bare; and the rest.
fn identifier(s: &str) -> (String, &str) {
    let s = s.trim_start();
    if let Some(rest) = s.strip_prefix('"') {
        return match rest.find('"') {
            Some(end) => (rest[..end].to_string(), &rest[end + 1..]),
            None => (String::new(), ""),
        };
    }
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')).unwrap_or(s.len());
    (s[..end].to_string(), &s[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The verb, table and index a statement gives.
    type Parsed<'a> = Option<(&'a str, Option<&'a str>, Option<&'a str>)>;

    #[test]
    fn partiql_statements_give_their_verb_table_and_index() {
        let cases: &[(&str, Parsed)] = &[
            (r#"SELECT * FROM "orders" WHERE pk = ?"#, Some(("SELECT", Some("orders"), None))),
            (
                r#"select id from "orders"."by-customer" where c = ?"#,
                Some(("SELECT", Some("orders"), Some("by-customer"))),
            ),
            (r#"INSERT INTO "orders" VALUE {'pk': ?}"#, Some(("INSERT", Some("orders"), None))),
            (r#"UPDATE orders SET x = 1 WHERE pk = ?"#, Some(("UPDATE", Some("orders"), None))),
            (r#"DELETE FROM "my-table" WHERE pk = ?"#, Some(("DELETE", Some("my-table"), None))),
            (r#"SELECT "from" FROM "t""#, Some(("SELECT", Some("t"), None))),
            ("HIDDEN_DUE_TO_SECURITY_REASONS", None),
            ("EXISTS(SELECT * FROM t)", None),
        ];
        for (statement, want) in cases {
            let got = parse_partiql(statement);
            let got = got.as_ref().map(|p| (p.verb.as_str(), p.table.as_deref(), p.index.as_deref()));
            assert_eq!(got, *want, "{statement}");
        }
    }

    #[test]
    fn triggers_are_read_from_the_table_and_a_typo_fails() {
        for (text, want) in [
            ("always", Trigger::Always),
            ("field:transactItems[].put", Trigger::Field("transactItems[].put".into())),
            ("partiql:SELECT", Trigger::PartiQl("SELECT".into())),
        ] {
            assert_eq!(Trigger::try_from(text.to_string()), Ok(want));
        }
        assert!(Trigger::try_from("sometimes".to_string()).is_err());
        assert!(Trigger::try_from("partiql:MERGE".to_string()).is_err());
    }
}
