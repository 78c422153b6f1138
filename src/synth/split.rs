//! Splitting a policy over the managed-policy size limit into several, nothing dropped.

use crate::policy::{PolicyDocument, Statement};

/// Splits `policy` into managed policies of at most `limit` characters each (white space not
/// counted), keeping statements whole where they fit and cutting a statement's resources
/// into parts where one statement alone is too large. No action or resource is dropped.
pub fn split(policy: &PolicyDocument, limit: usize) -> Vec<PolicyDocument> {
    let empty = PolicyDocument { version: policy.version.clone(), statement: Vec::new() };
    let size_with = |doc: &PolicyDocument, st: &Statement| {
        let mut d = doc.clone();
        d.statement.push(st.clone());
        d.size()
    };
    // Statements too large on their own are cut by resources (then by actions).
    let mut pieces: Vec<Statement> = Vec::new();
    for st in &policy.statement {
        if size_with(&empty, st) <= limit {
            pieces.push(st.clone());
            continue;
        }
        let mut n = 1;
        // Measured with the Sid it will carry.
        let mut part = Statement { sid: format!("{}Part{n}", st.sid), resource: Vec::new(), ..st.clone() };
        for r in &st.resource {
            let mut trial = part.clone();
            trial.resource.push(r.clone());
            if !part.resource.is_empty() && size_with(&empty, &trial) > limit {
                pieces.push(part.clone());
                n += 1;
                part.sid = format!("{}Part{n}", st.sid);
                part.resource.clear();
            }
            part.resource.push(r.clone());
        }
        part.sid = if n == 1 { st.sid.clone() } else { format!("{}Part{n}", st.sid) };
        pieces.push(part);
    }
    let mut out: Vec<PolicyDocument> = Vec::new();
    for st in pieces {
        match out.last_mut() {
            Some(doc) if size_with(doc, &st) <= limit => doc.statement.push(st),
            _ => {
                let mut d = empty.clone();
                d.statement.push(st);
                out.push(d);
            }
        }
    }
    out
}
