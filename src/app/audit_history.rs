//! The audits kept in the usage store (`iamtrim audit --store`): each audit's totals per
//! principal (granted, unused, risky unused, records, completeness), its findings, and the
//! actions granted and used, in two tables beside the store's days. An audit then carries each
//! principal's trend over the audits kept for the same source, and what changed since the last
//! one ([`Changes`]). Prints nothing.

use std::collections::BTreeSet;
use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use crate::output::audit::{Audit, Changes, PrincipalAudit, TrendPoint};
use crate::usage::store::StoreError;

/// The audits kept in one store.
#[derive(Debug)]
pub struct AuditHistory {
    conn: Connection,
    path: String,
}

/// One principal as an earlier audit saw it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Kept {
    findings: Vec<String>,
    granted_actions: Vec<String>,
    used_actions: Vec<String>,
}

impl Kept {
    /// What an audit keeps of `p`.
    fn of(p: &PrincipalAudit) -> Kept {
        Kept {
            findings: finding_keys(p),
            granted_actions: granted_actions(p),
            used_actions: p.used_actions.iter().map(|u| u.action.clone()).collect(),
        }
    }
}

/// What a principal's findings are, as `RULE subject` (a finding without a subject is its rule).
/// Risky unused permissions count all of them, not the ones listed as findings: a permission
/// that moves into the listed few is not new.
fn finding_keys(p: &PrincipalAudit) -> Vec<String> {
    let risky = crate::output::audit::FindingKind::RiskyUnused;
    let set: BTreeSet<String> = p
        .findings
        .iter()
        .filter(|f| f.kind != risky)
        .map(|f| {
            if f.subject.is_empty() {
                f.kind.rule_id().to_string()
            } else {
                format!("{} {}", f.kind.rule_id(), f.subject)
            }
        })
        .chain(p.risky_unused_actions.iter().map(|a| format!("{} {a}", risky.rule_id())))
        .collect();
    set.into_iter().collect()
}

fn granted_actions(p: &PrincipalAudit) -> Vec<String> {
    let set: BTreeSet<String> = p
        .unused_actions
        .iter()
        .map(|a| a.to_string())
        .chain(p.used_actions.iter().filter(|u| u.granted).map(|u| u.action.clone()))
        .collect();
    set.into_iter().collect()
}

fn difference(now: &[String], then: &[String]) -> Vec<String> {
    let then: BTreeSet<&String> = then.iter().collect();
    now.iter().filter(|x| !then.contains(x)).cloned().collect()
}

impl AuditHistory {
    /// Opens the history in the store database at `path` (creating its tables when needed).
    pub fn open(path: &Path) -> Result<AuditHistory, StoreError> {
        // The usage store creates the file (owner-only), checks its layout and migrates it.
        drop(crate::usage::store::UsageStore::open(path)?);
        let name = path.display().to_string();
        let fail = |e: rusqlite::Error| StoreError::Db { path: name.clone(), message: e.to_string() };
        let conn = Connection::open(path).map_err(fail)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS audits (
                id INTEGER PRIMARY KEY, source TEXT NOT NULL, audited_at TEXT NOT NULL, window TEXT NOT NULL,
                iamtrim_version TEXT NOT NULL, complete INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS audit_principals (
                audit INTEGER NOT NULL REFERENCES audits(id), arn TEXT NOT NULL, granted INTEGER NOT NULL,
                unused INTEGER NOT NULL, risky_unused INTEGER NOT NULL, records INTEGER NOT NULL,
                complete INTEGER NOT NULL, kept TEXT NOT NULL, PRIMARY KEY (audit, arn));",
        )
        .map_err(fail)?;
        Ok(AuditHistory { conn, path: name })
    }

    fn fail(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::Db { path: self.path.clone(), message: e.to_string() }
    }

    /// The last audit kept for `source`: its ID and when it ran.
    fn last(&self, source: &str) -> Result<Option<(i64, String)>, StoreError> {
        self.conn
            .query_row(
                "SELECT id, audited_at FROM audits WHERE source = ?1 ORDER BY id DESC LIMIT 1",
                params![source],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.fail(e))
    }

    /// `arn`'s points over the audits kept for `source`, oldest first.
    fn trend(&self, source: &str, arn: &str) -> Result<Vec<TrendPoint>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT a.audited_at, a.window, p.granted, p.unused, p.risky_unused, p.records, p.complete
                 FROM audit_principals p JOIN audits a ON a.id = p.audit
                 WHERE a.source = ?1 AND p.arn = ?2 ORDER BY a.id",
            )
            .map_err(|e| self.fail(e))?;
        let rows = st
            .query_map(params![source, arn], |r| {
                Ok(TrendPoint {
                    audited_at: r.get(0)?,
                    window: r.get(1)?,
                    granted: r.get::<_, i64>(2)? as usize,
                    unused: r.get::<_, i64>(3)? as usize,
                    risky_unused: r.get::<_, i64>(4)? as usize,
                    records: r.get::<_, i64>(5)? as u64,
                    complete: r.get::<_, i64>(6)? != 0,
                })
            })
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.fail(e))
    }

    /// `arn` as audit `id` saw it: its totals and what it kept.
    fn principal(&self, id: i64, arn: &str) -> Result<Option<(i64, i64, i64, Kept)>, StoreError> {
        let row: Option<(i64, i64, i64, String)> = self
            .conn
            .query_row(
                "SELECT granted, unused, risky_unused, kept FROM audit_principals WHERE audit = ?1 AND arn = ?2",
                params![id, arn],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(|e| self.fail(e))?;
        Ok(row.and_then(|(g, u, r, kept)| serde_json::from_str(&kept).ok().map(|k| (g, u, r, k))))
    }

    /// Gives `audit` each principal's trend over the audits kept for `source` (ending with this
    /// one, taken at `now`) and what changed since the last one, then keeps it.
    pub fn apply_and_keep(&self, audit: &mut Audit, source: &str, now: &str) -> Result<(), StoreError> {
        let last = self.last(source)?;
        audit.previous_audit = last.as_ref().map(|(_, at)| at.clone());
        // What this audit keeps of each principal, computed once: compared with the last audit's,
        // then stored.
        let kept: Vec<Kept> = audit.principals.iter().map(Kept::of).collect();
        for (p, now_kept) in audit.principals.iter_mut().zip(&kept) {
            let mut trend = self.trend(source, &p.arn)?;
            trend.push(TrendPoint {
                audited_at: now.to_string(),
                window: audit.window.clone(),
                granted: p.granted,
                unused: p.unused,
                risky_unused: p.risky_unused,
                records: p.records,
                complete: p.complete,
            });
            p.trend = trend;
            if let Some((id, at)) = &last {
                if let Some((granted, unused, risky, then)) = self.principal(*id, &p.arn)? {
                    p.changes = Some(Changes {
                        since: at.clone(),
                        granted_delta: p.granted as i64 - granted,
                        unused_delta: p.unused as i64 - unused,
                        risky_unused_delta: p.risky_unused as i64 - risky,
                        new_findings: difference(&now_kept.findings, &then.findings),
                        resolved_findings: difference(&then.findings, &now_kept.findings),
                        newly_used: difference(&now_kept.used_actions, &then.used_actions),
                        newly_granted: difference(&now_kept.granted_actions, &then.granted_actions),
                        no_longer_granted: difference(&then.granted_actions, &now_kept.granted_actions),
                    });
                }
            }
        }
        self.keep(audit, &kept, source, now)
    }

    fn keep(&self, audit: &Audit, kept: &[Kept], source: &str, now: &str) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction().map_err(|e| self.fail(e))?;
        tx.execute(
            "INSERT INTO audits (source, audited_at, window, iamtrim_version, complete) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![source, now, audit.window, audit.iamtrim_version, audit.complete as i64],
        )
        .map_err(|e| self.fail(e))?;
        let id = tx.last_insert_rowid();
        for (p, kept) in audit.principals.iter().zip(kept) {
            tx.execute(
                "INSERT INTO audit_principals (audit, arn, granted, unused, risky_unused, records, complete, kept) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    id,
                    p.arn,
                    p.granted as i64,
                    p.unused as i64,
                    p.risky_unused as i64,
                    p.records as i64,
                    p.complete as i64,
                    serde_json::to_string(kept).map_err(|e| self.fail(e))?
                ],
            )
            .map_err(|e| self.fail(e))?;
        }
        tx.commit().map_err(|e| self.fail(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::audit::{Finding, FindingKind, UsedAction};

    fn principal(granted: &[&str], used: &[&str], findings: &[(FindingKind, &str)]) -> PrincipalAudit {
        let arn = "arn:aws:iam::1:role/app".to_string();
        PrincipalAudit {
            arn: arn.clone(),
            kind: "role".into(),
            name: "app".into(),
            records: used.len() as u64,
            first_seen: None,
            last_seen: None,
            complete: true,
            policies: Vec::new(),
            granted: granted.len(),
            used: used.len(),
            unused: granted.len() - used.len(),
            unused_percent: 0.0,
            by_access_level: Vec::new(),
            risky_unused: findings.iter().filter(|f| f.0 == FindingKind::RiskyUnused).count(),
            risky_unused_actions: findings
                .iter()
                .filter(|f| f.0 == FindingKind::RiskyUnused)
                .map(|f| f.1.to_string())
                .collect(),
            unused_services: Vec::new(),
            unused_actions: granted.iter().filter(|g| !used.contains(g)).map(|g| (*g).into()).collect(),
            used_actions: used
                .iter()
                .map(|u| UsedAction {
                    action: u.to_string(),
                    calls: 1,
                    first_used: None,
                    last_used: None,
                    granted: true,
                })
                .collect(),
            narrowed_resources: Vec::new(),
            generated_policy: None,
            findings: findings
                .iter()
                .map(|(k, s)| Finding {
                    kind: *k,
                    principal: arn.clone(),
                    subject: s.to_string(),
                    message: String::new(),
                })
                .collect(),
            last_accessed: None,
            trend: Vec::new(),
            changes: None,
        }
    }

    fn audit(p: PrincipalAudit) -> Audit {
        Audit {
            schema: crate::output::audit::AUDIT_SCHEMA,
            iamtrim_version: "test",
            window: "w".into(),
            complete: true,
            gaps: Vec::new(),
            records_read: 0,
            records_matched: 0,
            summary: Default::default(),
            principals: vec![p],
            unknown_principals: Vec::new(),
            policies_from: "file".into(),
            previous_audit: None,
        }
    }

    #[test]
    fn the_second_audit_shows_the_trend_and_what_changed_since_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let h = AuditHistory::open(&dir.path().join("usage.sqlite")).unwrap();
        let mut first = audit(principal(
            &["s3:GetObject", "iam:PassRole", "sqs:SendMessage"],
            &["s3:GetObject"],
            &[(FindingKind::RiskyUnused, "iam:PassRole")],
        ));
        h.apply_and_keep(&mut first, "logs:x", "2026-10-08T00:00:00Z").unwrap();
        assert_eq!(first.previous_audit, None);
        assert_eq!(first.principals[0].trend.len(), 1);
        assert!(first.principals[0].changes.is_none(), "nothing to compare the first audit with");

        // PassRole removed, DynamoDB granted and used.
        let mut second = audit(principal(
            &["s3:GetObject", "sqs:SendMessage", "dynamodb:GetItem"],
            &["s3:GetObject", "dynamodb:GetItem"],
            &[],
        ));
        h.apply_and_keep(&mut second, "logs:x", "2026-10-15T00:00:00Z").unwrap();
        assert_eq!(second.previous_audit.as_deref(), Some("2026-10-08T00:00:00Z"));
        let p = &second.principals[0];
        let granted: Vec<usize> = p.trend.iter().map(|t| t.granted).collect();
        assert_eq!(granted, [3, 3]);
        let risky: Vec<usize> = p.trend.iter().map(|t| t.risky_unused).collect();
        assert_eq!(risky, [1, 0]);
        let c = p.changes.as_ref().unwrap();
        assert_eq!((c.granted_delta, c.unused_delta, c.risky_unused_delta), (0, -1, -1));
        assert_eq!(c.resolved_findings, ["IAMTRIM001 iam:PassRole"]);
        assert!(c.new_findings.is_empty());
        assert_eq!(c.newly_used, ["dynamodb:GetItem"]);
        assert_eq!(c.newly_granted, ["dynamodb:GetItem"]);
        assert_eq!(c.no_longer_granted, ["iam:PassRole"]);

        // Another source's audits are another history.
        let mut other = audit(principal(&["s3:GetObject"], &[], &[]));
        h.apply_and_keep(&mut other, "s3://bucket", "2026-10-15T00:00:00Z").unwrap();
        assert_eq!((other.previous_audit.as_deref(), other.principals[0].trend.len()), (None, 1));
    }
}
