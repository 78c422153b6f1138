//! The policies that apply to a role or user, read offline from the output of
//! `aws iam get-account-authorization-details` (`--auth-details FILE`): a role's inline and
//! attached policies and boundary; a user's inline and attached policies, those of each of its
//! groups, and its boundary. Documents may be JSON objects (the CLI decodes them) or strings
//! (URL-encoded, as the raw API returns them). A managed policy the file does not hold is taken
//! from the bundled AWS managed policies when it is one, else the read fails naming it: a policy
//! left out would make the diff call granted permissions "not granted", or worse, miss a grant.

use serde_json::Value;

use crate::policy::evaluator::PolicySet;
use crate::policy::managed::ManagedPolicies;
use crate::policy::model::Policy;

/// A parsed authorization-details document.
#[derive(Debug)]
pub struct AuthorizationDetails {
    doc: Value,
}

/// Why the policies of a principal cannot be read from the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthDetailsError {
    /// Not the output of get-account-authorization-details.
    #[error("{0}")]
    Malformed(String),
    /// The principal is not in the file.
    #[error("{kind} `{name}` is not in the authorization details ({known} {kind}s are: {listed})")]
    NotFound {
        /// `role` or `user`.
        kind: &'static str,
        /// The name asked for.
        name: String,
        /// How many of that kind the file has.
        known: usize,
        /// The first few names.
        listed: String,
    },
    /// A policy of the principal cannot be read.
    #[error("{0}")]
    Policy(String),
}

/// A policy document as the file has it: an object, or a (URL-encoded) JSON string.
fn document(name: &str, v: &Value) -> Result<Policy, AuthDetailsError> {
    let bad = |e: String| AuthDetailsError::Policy(format!("policy {name}: {e}"));
    match v {
        Value::String(s) => {
            let text =
                if s.trim_start().starts_with('{') { s.clone() } else { crate::mapping::params::percent_decode(s) };
            Policy::parse(name, &text).map_err(|e| bad(e.to_string()))
        }
        Value::Object(_) => Policy::from_value(name, v).map_err(|e| bad(e.to_string())),
        _ => Err(bad("no document".into())),
    }
}

fn str_of<'v>(v: &'v Value, key: &str) -> &'v str {
    v[key].as_str().unwrap_or("")
}

/// A role or user the file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizedPrincipal {
    /// `role` or `user`.
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// Its ARN, with its path.
    pub arn: String,
    /// Its path (`/`, `/aws-service-role/...`).
    pub path: String,
    /// Its account.
    pub account: String,
    /// Its partition.
    pub partition: String,
}

impl AuthorizedPrincipal {
    /// The key its activity is counted under: its ARN without the path
    /// (`arn:aws:iam::123456789012:role/NAME`).
    pub fn audit_key(&self) -> String {
        format!("arn:{}:iam::{}:{}/{}", self.partition, self.account, self.kind, self.name)
    }
}

impl AuthorizationDetails {
    /// Every role, then every user, the file holds (an entry without a parsable ARN is left
    /// out: it names no account).
    pub fn principals(&self) -> Vec<AuthorizedPrincipal> {
        let mut out = Vec::new();
        for (list, name_key, kind) in [("RoleDetailList", "RoleName", "role"), ("UserDetailList", "UserName", "user")] {
            for e in self.list(list) {
                let arn = str_of(e, "Arn");
                let Some(parsed) = crate::mapping::arn::Arn::parse(arn) else { continue };
                out.push(AuthorizedPrincipal {
                    kind,
                    name: str_of(e, name_key).to_string(),
                    arn: arn.to_string(),
                    path: e["Path"].as_str().unwrap_or("/").to_string(),
                    account: parsed.account.to_string(),
                    partition: parsed.partition.to_string(),
                });
            }
        }
        out
    }

    /// Parses the file's text.
    pub fn parse(text: &str) -> Result<AuthorizationDetails, AuthDetailsError> {
        let doc: Value =
            serde_json::from_str(text).map_err(|e| AuthDetailsError::Malformed(format!("not JSON ({e})")))?;
        Self::from_value(doc)
    }

    /// The document as JSON (the file's, or the one read from IAM).
    pub fn from_value(doc: Value) -> Result<AuthorizationDetails, AuthDetailsError> {
        let lists = ["UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"];
        if !doc.is_object() || !lists.iter().any(|k| doc[k].is_array()) {
            return Err(AuthDetailsError::Malformed(
                "not the output of `aws iam get-account-authorization-details` (no UserDetailList, GroupDetailList, RoleDetailList or Policies)".into(),
            ));
        }
        Ok(AuthorizationDetails { doc })
    }

    fn list(&self, key: &str) -> &[Value] {
        self.doc[key].as_array().map(Vec::as_slice).unwrap_or(&[])
    }

    /// Role names in the file.
    pub fn role_names(&self) -> Vec<&str> {
        self.list("RoleDetailList").iter().map(|r| str_of(r, "RoleName")).collect()
    }

    /// The managed policy `arn`: from the file's `Policies` (its default version), else the
    /// bundled AWS managed copy.
    fn managed(&self, arn: &str) -> Result<Policy, AuthDetailsError> {
        let name = arn.rsplit('/').next().unwrap_or(arn);
        if let Some(p) = self.list("Policies").iter().find(|p| str_of(p, "Arn") == arn) {
            let versions = p["PolicyVersionList"].as_array().map(Vec::as_slice).unwrap_or(&[]);
            let default = str_of(p, "DefaultVersionId");
            let version = versions
                .iter()
                .find(|v| {
                    v["IsDefaultVersion"].as_bool() == Some(true)
                        || (!default.is_empty() && str_of(v, "VersionId") == default)
                })
                .ok_or_else(|| {
                    AuthDetailsError::Policy(format!("managed policy {arn}: no default version in the file"))
                })?;
            return document(name, &version["Document"]);
        }
        match ManagedPolicies::embedded().get(arn) {
            Some(p) => p.map_err(|e| AuthDetailsError::Policy(format!("{arn}: {e}"))),
            None => Err(AuthDetailsError::Policy(format!(
                "managed policy {arn} is attached but not in the file: export it with `aws iam get-account-authorization-details` (no --filter), or pass the policies with --current"
            ))),
        }
    }

    /// Inline policies (`list_key`) and attached managed policies of one role, user or group.
    fn policies_of(
        &self,
        entity: &Value,
        list_key: &str,
        label: &str,
        out: &mut Vec<Policy>,
    ) -> Result<(), AuthDetailsError> {
        for p in entity[list_key].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            out.push(document(&format!("{} ({label}inline)", str_of(p, "PolicyName")), &p["PolicyDocument"])?);
        }
        for a in entity["AttachedManagedPolicies"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let mut p = self.managed(str_of(a, "PolicyArn"))?;
            if !label.is_empty() {
                p.name = format!("{} ({label}attached)", p.name);
            }
            out.push(p);
        }
        Ok(())
    }

    fn boundary(&self, entity: &Value) -> Result<Option<Policy>, AuthDetailsError> {
        match entity["PermissionsBoundary"]["PermissionsBoundaryArn"].as_str() {
            Some(arn) => {
                let mut p = self.managed(arn)?;
                p.name = format!("{} (boundary)", p.name);
                Ok(Some(p))
            }
            None => Ok(None),
        }
    }

    fn find(
        &self,
        list: &str,
        name_key: &str,
        kind: &'static str,
        name: &str,
        account: Option<&str>,
    ) -> Result<&Value, AuthDetailsError> {
        let entities = self.list(list);
        entities
            .iter()
            .find(|e| {
                str_of(e, name_key).eq_ignore_ascii_case(name)
                    && account.is_none_or(|a| {
                        crate::mapping::arn::Arn::parse(str_of(e, "Arn")).is_none_or(|arn| arn.account == a)
                    })
            })
            .ok_or_else(|| AuthDetailsError::NotFound {
                kind,
                name: name.to_string(),
                known: entities.len(),
                listed: entities.iter().take(8).map(|e| str_of(e, name_key)).collect::<Vec<_>>().join(", "),
            })
    }

    /// What applies to role `name`: its inline and attached policies, and its boundary.
    pub fn role_policies(&self, name: &str, account: Option<&str>) -> Result<PolicySet, AuthDetailsError> {
        let role = self.find("RoleDetailList", "RoleName", "role", name, account)?;
        let mut identity = Vec::new();
        self.policies_of(role, "RolePolicyList", "", &mut identity)?;
        Ok(PolicySet { identity, boundary: self.boundary(role)? })
    }

    /// What applies to user `name`: its inline and attached policies, those of its groups, and
    /// its boundary.
    pub fn user_policies(&self, name: &str, account: Option<&str>) -> Result<PolicySet, AuthDetailsError> {
        let user = self.find("UserDetailList", "UserName", "user", name, account)?;
        let mut identity = Vec::new();
        self.policies_of(user, "UserPolicyList", "", &mut identity)?;
        for group in user["GroupList"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let group_name = group.as_str().unwrap_or("");
            let g = self.find("GroupDetailList", "GroupName", "group", group_name, account)?;
            self.policies_of(g, "GroupPolicyList", &format!("group {group_name} "), &mut identity)?;
        }
        Ok(PolicySet { identity, boundary: self.boundary(user)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DETAILS: &str = r#"{
      "UserDetailList": [{"UserName": "alice", "Arn": "arn:aws:iam::111122223333:user/team/alice",
        "UserPolicyList": [{"PolicyName": "own", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}}],
        "GroupList": ["devs"],
        "AttachedManagedPolicies": [{"PolicyName": "ReadOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}],
        "PermissionsBoundary": {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": "arn:aws:iam::111122223333:policy/bound"}}],
      "GroupDetailList": [{"GroupName": "devs", "Arn": "arn:aws:iam::111122223333:group/devs",
        "GroupPolicyList": [{"PolicyName": "queues", "PolicyDocument": "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22sqs%3ASendMessage%22%2C%22Resource%22%3A%22*%22%7D%5D%7D"}],
        "AttachedManagedPolicies": [{"PolicyName": "logs", "PolicyArn": "arn:aws:iam::111122223333:policy/logs"}]}],
      "RoleDetailList": [{"RoleName": "app", "Arn": "arn:aws:iam::111122223333:role/app",
        "RolePolicyList": [], "AttachedManagedPolicies": [{"PolicyName": "logs", "PolicyArn": "arn:aws:iam::111122223333:policy/logs"}]}],
      "Policies": [
        {"PolicyName": "logs", "Arn": "arn:aws:iam::111122223333:policy/logs", "DefaultVersionId": "v2",
         "PolicyVersionList": [
           {"VersionId": "v1", "IsDefaultVersion": false, "Document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}},
           {"VersionId": "v2", "IsDefaultVersion": true, "Document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}]}}]},
        {"PolicyName": "bound", "Arn": "arn:aws:iam::111122223333:policy/bound", "DefaultVersionId": "v1",
         "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true, "Document": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:*\",\"sqs:*\",\"logs:*\"],\"Resource\":\"*\"}]}"}]}
      ]}"#;

    #[test]
    fn a_user_gets_its_own_its_groups_and_its_boundary_policies() {
        let d = AuthorizationDetails::parse(DETAILS).unwrap();
        let set = d.user_policies("Alice", None).unwrap();
        let names: Vec<&str> = set.identity.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            ["own (inline)", "ReadOnlyAccess", "queues (group devs inline)", "logs (group devs attached)"]
        );
        assert_eq!(set.boundary.as_ref().map(|b| b.name.as_str()), Some("bound (boundary)"));
        // The default version, not the first.
        let logs = &set.identity[3];
        assert_eq!(logs.statements[0].actions, crate::policy::model::Actions::Only(vec!["logs:PutLogEvents".into()]));
    }

    #[test]
    fn a_role_gets_its_policies_and_a_missing_principal_names_what_the_file_has() {
        let d = AuthorizationDetails::parse(DETAILS).unwrap();
        assert_eq!(d.role_policies("app", Some("111122223333")).unwrap().identity.len(), 1);
        let err = d.role_policies("app", Some("999999999999")).unwrap_err();
        assert!(err.to_string().contains("role `app` is not in") && err.to_string().contains("app"), "{err}");
        assert!(matches!(d.user_policies("bob", None), Err(AuthDetailsError::NotFound { kind: "user", .. })));
    }

    #[test]
    fn a_managed_policy_the_file_lacks_is_an_error_unless_aws_manages_it() {
        let text = DETAILS.replace(
            "arn:aws:iam::111122223333:policy/logs\", \"DefaultVersionId",
            "arn:aws:iam::111122223333:policy/other\", \"DefaultVersionId",
        );
        let d = AuthorizationDetails::parse(&text).unwrap();
        let err = d.role_policies("app", None).unwrap_err();
        assert!(err.to_string().contains("policy/logs is attached but not in the file"), "{err}");
        assert!(AuthorizationDetails::parse("{}").is_err());
        assert!(AuthorizationDetails::parse("[1]").is_err());
    }
}
