//! `report.html`: the audit as one self-contained page (inline CSS, JavaScript and SVG; no
//! network) for a security reviewer: an overview, a sortable and filterable table of
//! principals, and a section per principal with its chart of granted and used actions by access
//! level, its findings, its generated policy (with a copy button) and the evidence of each used
//! action. Every string from the logs or the account is HTML-escaped.

use std::fmt::Write as _;

use crate::output::audit::{Audit, PrincipalAudit};

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// An id for an element from a principal's ARN: letters, digits and `-`, with a hash so two
/// ARNs never share one.
fn anchor(arn: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in arn.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    let base: String = arn
        .rsplit(['/', ':'])
        .next()
        .unwrap_or("p")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(40)
        .collect();
    format!("p-{base}-{h:08x}")
}

const STYLE: &str = r#"
:root { --fg:#1d2430; --muted:#5b6573; --line:#d9dee5; --bg:#f6f8fa; --used:#2f7d4f; --unused:#c2412d; --granted:#8a96a8; --accent:#1f5fbf; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); margin: 0; background: #fff; }
header { background: #102a43; color: #fff; padding: 18px 28px; }
header h1 { margin: 0; font-size: 20px; }
header p { margin: 4px 0 0; color: #c9d6e3; }
main { padding: 20px 28px; max-width: 1200px; }
.banner { background: #fff4e5; border: 1px solid #f0b429; padding: 10px 14px; margin-bottom: 16px; border-radius: 6px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin-bottom: 18px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; min-width: 150px; background: var(--bg); }
.card .n { font-size: 26px; font-weight: 600; }
.card .l { color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: 8px 0 18px; }
th, td { border-bottom: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: var(--bg); cursor: pointer; user-select: none; white-space: nowrap; }
th.sorted-asc::after { content: " \25B2"; } th.sorted-desc::after { content: " \25BC"; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
input[type=search] { padding: 6px 10px; width: 320px; border: 1px solid var(--line); border-radius: 6px; }
section.principal { border-top: 2px solid var(--line); padding-top: 14px; margin-top: 22px; }
section.principal h3 { margin: 0 0 4px; font-size: 16px; word-break: break-all; }
.meta { color: var(--muted); }
.finding { padding: 4px 8px; border-left: 4px solid var(--granted); margin: 4px 0; background: var(--bg); }
.finding.error { border-color: var(--unused); } .finding.warning { border-color: #f0b429; }
.tag { display: inline-block; padding: 1px 6px; border-radius: 10px; font-size: 12px; background: #e4e7eb; margin-right: 4px; }
.tag.risk { background: #fde2dd; color: #8a1c0c; }
pre { background: #0f1720; color: #e6edf3; padding: 12px; border-radius: 6px; overflow: auto; max-height: 360px; }
button.copy { float: right; margin: 4px; }
.legend span { margin-right: 14px; } .sw { display:inline-block; width:10px; height:10px; margin-right:4px; }
details summary { cursor: pointer; color: var(--accent); }
.changes { background: #eef4fb; border: 1px solid #bcd3ee; border-radius: 6px; padding: 8px 12px; margin: 8px 0; }
"#;

const SCRIPT: &str = r#"
(function () {
  var table = document.getElementById('principals');
  var headers = table.querySelectorAll('th');
  headers.forEach(function (th, col) {
    th.addEventListener('click', function () {
      var asc = !th.classList.contains('sorted-asc');
      headers.forEach(function (h) { h.classList.remove('sorted-asc', 'sorted-desc'); });
      th.classList.add(asc ? 'sorted-asc' : 'sorted-desc');
      var rows = Array.prototype.slice.call(table.tBodies[0].rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute('data-v'), y = b.cells[col].getAttribute('data-v');
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return asc ? c : -c;
      });
      rows.forEach(function (r) { table.tBodies[0].appendChild(r); });
    });
  });
  var filter = document.getElementById('filter');
  filter.addEventListener('input', function () {
    var q = filter.value.toLowerCase();
    Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
      r.style.display = r.textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none';
    });
  });
  document.querySelectorAll('button.copy').forEach(function (b) {
    b.addEventListener('click', function () {
      var text = document.getElementById(b.getAttribute('data-target')).textContent;
      var done = function () { b.textContent = 'Copied'; setTimeout(function () { b.textContent = 'Copy'; }, 1500); };
      if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(text).then(done, done); }
      else { var t = document.createElement('textarea'); t.value = text; document.body.appendChild(t); t.select(); try { document.execCommand('copy'); } catch (e) {} document.body.removeChild(t); done(); }
    });
  });
  document.body.setAttribute('data-ready', 'yes');
})();
"#;

/// A horizontal bar chart: for each access level, the granted bar with the used part over it.
fn level_chart(p: &PrincipalAudit) -> String {
    let max = p.by_access_level.iter().map(|l| l.granted).max().unwrap_or(0).max(1);
    let (w, row, label) = (520.0, 26.0, 170.0);
    let h = row * p.by_access_level.len() as f64 + 24.0;
    let mut s = format!(
        r#"<svg class="chart" role="img" aria-label="granted and used actions by access level" width="{w}" height="{h}" viewBox="0 0 {w} {h}">"#
    );
    for (i, l) in p.by_access_level.iter().enumerate() {
        let y = i as f64 * row + 4.0;
        let scale = (w - label - 80.0) / max as f64;
        let _ = write!(
            s,
            r##"<text x="0" y="{ty}" font-size="12" fill="#1d2430">{name}</text><rect class="bar-granted" x="{label}" y="{y}" width="{gw:.1}" height="16" fill="#c2412d" opacity="0.8"><title>{granted} granted</title></rect><rect class="bar-used" x="{label}" y="{y}" width="{uw:.1}" height="16" fill="#2f7d4f"><title>{used} used</title></rect><text x="{tx:.1}" y="{ty}" font-size="12" fill="#5b6573">{used}/{granted}</text>"##,
            ty = y + 12.0,
            name = escape(&l.access_level),
            gw = l.granted as f64 * scale,
            uw = l.used as f64 * scale,
            tx = label + l.granted as f64 * scale + 6.0,
            granted = l.granted,
            used = l.used,
        );
    }
    let _ = write!(
        s,
        r##"<text x="0" y="{}" font-size="11" fill="#5b6573">green: used · red: granted, never used</text></svg>"##,
        h - 4.0
    );
    s
}

/// A line chart of the principal's audits kept in the store: granted, unused and risky unused
/// actions, one point per audit.
fn trend_chart(p: &PrincipalAudit) -> String {
    let (w, h, left, top, bottom) = (520.0, 150.0, 48.0, 10.0, 34.0);
    let max = p.trend.iter().map(|t| t.granted.max(t.unused)).max().unwrap_or(0).max(1) as f64;
    let n = p.trend.len();
    let x = |i: usize| {
        if n <= 1 {
            left + (w - left - 20.0) / 2.0
        } else {
            left + i as f64 * (w - left - 20.0) / (n - 1) as f64
        }
    };
    let y = |v: usize| top + (h - top - bottom) * (1.0 - v as f64 / max);
    let mut s = format!(
        r##"<svg class="chart trend-chart" role="img" aria-label="granted, unused and risky unused actions per audit" width="{w}" height="{h}" viewBox="0 0 {w} {h}"><line x1="{left}" y1="{b}" x2="{r}" y2="{b}" stroke="#d9dee5"/><text x="0" y="{ty}" font-size="11" fill="#5b6573">{max}</text><text x="0" y="{b}" font-size="11" fill="#5b6573">0</text>"##,
        b = h - bottom,
        r = w - 10.0,
        ty = top + 8.0,
        max = max as usize,
    );
    type Value = fn(&crate::output::audit::TrendPoint) -> usize;
    let series: [(&str, &str, Value); 3] = [
        ("granted", "#8a96a8", |t| t.granted),
        ("unused", "#c2412d", |t| t.unused),
        ("risky unused", "#7a1e10", |t| t.risky_unused),
    ];
    for (name, color, value) in series {
        let points: Vec<String> =
            p.trend.iter().enumerate().map(|(i, t)| format!("{:.1},{:.1}", x(i), y(value(t)))).collect();
        let _ = write!(
            s,
            r#"<polyline class="trend-{}" fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            name.replace(' ', "-"),
            points.join(" ")
        );
        for (i, t) in p.trend.iter().enumerate() {
            let _ = write!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{color}"><title>{} · {name}: {}</title></circle>"#,
                x(i),
                y(value(t)),
                escape(&t.audited_at),
                value(t)
            );
        }
    }
    if let (Some(first), Some(last)) = (p.trend.first(), p.trend.last()) {
        let _ = write!(
            s,
            r##"<text x="{left}" y="{ly}" font-size="11" fill="#5b6573">{}</text><text x="{rx}" y="{ly}" font-size="11" fill="#5b6573" text-anchor="end">{}</text><text x="{left}" y="{ky}" font-size="11" fill="#5b6573">grey: granted · red: unused · dark red: risky unused ({n} audits)</text>"##,
            escape(&first.audited_at[..first.audited_at.len().min(10)]),
            escape(&last.audited_at[..last.audited_at.len().min(10)]),
            ly = h - bottom + 14.0,
            rx = w - 10.0,
            ky = h - 4.0,
        );
    }
    s.push_str("</svg>");
    s
}

/// What changed since the last audit kept.
fn changes_box(s: &mut String, c: &crate::output::audit::Changes) {
    let list = |v: &[String]| {
        let shown: Vec<String> = v.iter().take(12).map(|x| escape(x)).collect();
        let more = v.len().saturating_sub(shown.len());
        if v.is_empty() {
            "none".to_string()
        } else if more > 0 {
            format!("{} and {more} more", shown.join(", "))
        } else {
            shown.join(", ")
        }
    };
    let _ = write!(
        s,
        r#"<div class="changes"><strong>Since the last audit ({})</strong>: granted {:+}, unused {:+}, risky unused {:+}<br>new findings: {}<br>resolved findings: {}<br>newly granted: {}<br>no longer granted: {}<br>newly used: {}</div>"#,
        escape(&c.since),
        c.granted_delta,
        c.unused_delta,
        c.risky_unused_delta,
        list(&c.new_findings),
        list(&c.resolved_findings),
        list(&c.newly_granted),
        list(&c.no_longer_granted),
        list(&c.newly_used)
    );
}

/// The overview chart: each principal's unused share as a bar, most unused first.
fn overview_chart(a: &Audit) -> String {
    let mut ps: Vec<&PrincipalAudit> = a.principals.iter().collect();
    ps.sort_by(|x, y| y.unused_percent.total_cmp(&x.unused_percent).then(x.arn.cmp(&y.arn)));
    ps.truncate(25);
    let (w, row, label) = (760.0, 22.0, 260.0);
    let h = row * ps.len() as f64 + 8.0;
    let mut s = format!(
        r#"<svg id="overview-chart" class="chart" role="img" aria-label="unused share of granted actions per principal" width="{w}" height="{h}" viewBox="0 0 {w} {h}">"#
    );
    for (i, p) in ps.iter().enumerate() {
        let y = i as f64 * row + 2.0;
        let bw = (w - label - 60.0) * p.unused_percent / 100.0;
        let _ = write!(
            s,
            r##"<text x="0" y="{ty}" font-size="12" fill="#1d2430">{name}</text><rect class="bar-unused" x="{label}" y="{y}" width="{bw:.1}" height="14" fill="#c2412d"><title>{pct:.1}% unused</title></rect><text x="{tx:.1}" y="{ty}" font-size="12" fill="#5b6573">{pct:.0}%</text>"##,
            ty = y + 11.0,
            name = escape(&truncate(&p.name, 36)),
            tx = label + bw + 6.0,
            pct = p.unused_percent,
        );
    }
    s.push_str("</svg>");
    s
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

/// The page.
pub fn render(a: &Audit) -> String {
    let mut s = String::new();
    let sm = &a.summary;
    let risky = sm.risky_unused;
    let _ = write!(
        s,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"><title>iamtrim audit</title><style>{STYLE}</style></head><body><header><h1>iamtrim audit</h1><p>{window} · iamtrim {version} · schema {schema}</p></header><main>"#,
        window = escape(&a.window),
        version = escape(a.iamtrim_version),
        schema = escape(a.schema),
    );
    if !a.complete {
        let _ = write!(
            s,
            r#"<div class="banner" id="incomplete"><strong>INCOMPLETE</strong>: {} part(s) of the logs could not be read. Nothing in this report is "unused"; read it as "not seen in what could be read".<ul>"#,
            a.gaps.len()
        );
        for g in &a.gaps {
            let _ = write!(s, "<li>{}</li>", escape(&g.to_string()));
        }
        s.push_str("</ul></div>");
    }
    let _ = write!(
        s,
        r#"<h2>Overview</h2><div class="cards" id="overview"><div class="card"><div class="n">{}</div><div class="l">principals</div></div><div class="card"><div class="n">{}</div><div class="l">with activity</div></div><div class="card"><div class="n">{:.1}%</div><div class="l">of {} granted actions unused</div></div><div class="card"><div class="n">{}</div><div class="l">risky unused permissions</div></div><div class="card"><div class="n">{}</div><div class="l">gaps in the read</div></div></div>"#,
        sm.principals,
        sm.with_activity,
        sm.unused_percent,
        sm.granted,
        risky,
        a.gaps.len()
    );
    if let Some(prev) = &a.previous_audit {
        let changed: Vec<&PrincipalAudit> = a
            .principals
            .iter()
            .filter(|p| {
                p.changes.as_ref().is_some_and(|c| {
                    !c.new_findings.is_empty() || !c.resolved_findings.is_empty() || c.granted_delta != 0
                })
            })
            .collect();
        let new: usize = a.principals.iter().filter_map(|p| p.changes.as_ref()).map(|c| c.new_findings.len()).sum();
        let resolved: usize =
            a.principals.iter().filter_map(|p| p.changes.as_ref()).map(|c| c.resolved_findings.len()).sum();
        let _ = write!(
            s,
            r#"<div class="changes" id="since-last-audit"><strong>Since the last audit ({})</strong>: {} new findings, {} resolved; {} principal(s) changed{}</div>"#,
            escape(prev),
            new,
            resolved,
            changed.len(),
            if changed.is_empty() {
                String::new()
            } else {
                format!(": {}", changed.iter().map(|p| escape(&p.name)).collect::<Vec<_>>().join(", "))
            }
        );
    }
    s.push_str("<h3>Unused share per principal</h3>");
    s.push_str(&overview_chart(a));
    s.push_str(r#"<h2>Principals</h2><input type="search" id="filter" placeholder="Filter principals, findings…" aria-label="filter"><table id="principals"><thead><tr><th>principal</th><th>kind</th><th class="num">records</th><th>last seen</th><th class="num">granted</th><th class="num">used</th><th class="num">unused %</th><th class="num">risky</th><th>findings</th></tr></thead><tbody>"#);
    for p in &a.principals {
        let risky = p.risky_unused;
        let kinds: std::collections::BTreeSet<&str> = p.findings.iter().map(|f| f.kind.name()).collect();
        let tags: String = kinds
            .iter()
            .map(|k| {
                format!(
                    r#"<span class="tag{}">{}</span>"#,
                    if k.starts_with("risky") || k.starts_with("full") { " risk" } else { "" },
                    escape(k)
                )
            })
            .collect();
        let last = p.last_seen.clone().unwrap_or_default();
        let _ = write!(
            s,
            r##"<tr><td data-v="{arn}"><a href="#{id}">{arn}</a></td><td data-v="{kind}">{kind}</td><td class="num" data-v="{rec}">{rec}</td><td data-v="{last}">{lastshown}</td><td class="num" data-v="{g}">{g}</td><td class="num" data-v="{u}">{u}</td><td class="num" data-v="{pct}">{pct:.1}</td><td class="num" data-v="{risky}">{risky}</td><td data-v="{nf}">{tags}</td></tr>"##,
            arn = escape(&p.arn),
            id = anchor(&p.arn),
            kind = escape(&p.kind),
            rec = p.records,
            last = escape(&last),
            lastshown = if last.is_empty() { "never".to_string() } else { escape(&last[..last.len().min(10)]) },
            g = p.granted,
            u = p.used,
            pct = p.unused_percent,
            nf = p.findings.len(),
        );
    }
    s.push_str("</tbody></table>");
    if !a.unknown_principals.is_empty() {
        s.push_str("<h3>Activity of principals not in the authorization details</h3><ul>");
        for u in &a.unknown_principals {
            let _ = write!(s, "<li>{} ({} records)</li>", escape(&u.arn), u.records);
        }
        s.push_str("</ul>");
    }
    for p in &a.principals {
        principal_section(&mut s, p);
    }
    let _ = writeln!(s, "</main><script>{SCRIPT}</script></body></html>");
    s
}

fn principal_section(s: &mut String, p: &PrincipalAudit) {
    let id = anchor(&p.arn);
    let _ = write!(
        s,
        r#"<section class="principal" id="{id}"><h3>{arn}</h3><div class="meta">{kind} · {rec} records · {first} to {last} · {g} granted, {u} used, {n} unused ({pct:.1}%){inc}</div>"#,
        arn = escape(&p.arn),
        kind = escape(&p.kind),
        rec = p.records,
        first = escape(p.first_seen.as_deref().unwrap_or("no activity")),
        last = escape(p.last_seen.as_deref().unwrap_or("")),
        g = p.granted,
        u = p.used,
        n = p.unused,
        pct = p.unused_percent,
        inc = if p.complete { "" } else { " · INCOMPLETE read" },
    );
    let _ = write!(s, "<p class=\"meta\">policies: {}</p>", escape(&p.policies.join(", ")));
    s.push_str(&level_chart(p));
    if !p.trend.is_empty() {
        s.push_str("<h4>Trend over the audits kept</h4>");
        s.push_str(&trend_chart(p));
    }
    if let Some(c) = &p.changes {
        changes_box(s, c);
    }
    if !p.findings.is_empty() {
        s.push_str("<h4>Findings</h4>");
        for f in &p.findings {
            let _ = write!(
                s,
                r#"<div class="finding {}"><span class="tag">{}</span>{}</div>"#,
                f.kind.level(),
                f.kind.rule_id(),
                escape(&f.message)
            );
        }
    }
    if !p.unused_services.is_empty() {
        let _ = write!(s, "<p><strong>Unused services:</strong> {}</p>", escape(&p.unused_services.join(", ")));
    }
    if let Some(la) = &p.last_accessed {
        last_accessed_section(s, la);
    }
    if !p.narrowed_resources.is_empty() {
        s.push_str("<details><summary>Resources to narrow</summary><table><tr><th>action</th><th>granted on</th><th>used on</th></tr>");
        for n in &p.narrowed_resources {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&n.action),
                escape(&n.granted.join(" ")),
                escape(&n.used.join(" "))
            );
        }
        s.push_str("</table></details>");
    }
    if let Some(policy) = &p.generated_policy {
        let text = serde_json::to_string_pretty(policy).unwrap_or_default();
        let _ = write!(
            s,
            r#"<h4>Generated policy</h4><button class="copy" data-target="{id}-policy">Copy</button><pre id="{id}-policy">{}</pre>"#,
            escape(&text)
        );
    }
    if !p.used_actions.is_empty() {
        s.push_str("<details><summary>Evidence: actions used</summary><table><tr><th>action</th><th class=\"num\">calls</th><th>first used</th><th>last used</th><th>granted</th></tr>");
        for u in &p.used_actions {
            let _ = write!(
                s,
                r#"<tr><td>{}</td><td class="num">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
                escape(&u.action),
                u.calls,
                escape(u.first_used.as_deref().unwrap_or("")),
                escape(u.last_used.as_deref().unwrap_or("")),
                if u.granted { "yes" } else { "no" }
            );
        }
        s.push_str("</table></details>");
    }
    s.push_str("</section>");
}

/// IAM's last-accessed answer beside the logs' one, service by service.
fn last_accessed_section(s: &mut String, la: &crate::output::audit::LastAccessedView) {
    use crate::output::audit::Agreement;
    let _ = write!(
        s,
        r#"<h4>IAM last accessed, beside the logs</h4><p class="meta">{}{}</p>"#,
        escape(la.source),
        la.as_of.as_deref().map(|t| format!(" · as of {}", escape(t))).unwrap_or_default()
    );
    if let Some(e) = &la.error {
        let _ = write!(s, r#"<div class="finding warning">No last-accessed data: {}</div>"#, escape(e));
        return;
    }
    s.push_str(r#"<table class="last-accessed"><tr><th>service</th><th>logs: last call</th><th>IAM: last authenticated</th><th class="num">actions IAM tracks</th><th>the two answers</th></tr>"#);
    for e in &la.services {
        let class = match e.agreement {
            Agreement::OnlyIamInWindow => " class=\"finding warning\"",
            _ => "",
        };
        let _ = write!(
            s,
            r#"<tr{class}><td>{} <span class="meta">{}</span></td><td>{}</td><td>{}{}</td><td class="num">{}</td><td>{}</td></tr>"#,
            escape(&e.service),
            escape(&e.name),
            escape(e.logs_last_used.as_deref().unwrap_or("none")),
            escape(e.iam_last_authenticated.as_deref().unwrap_or("none")),
            e.iam_region.as_deref().map(|r| format!(" ({})", escape(r))).unwrap_or_default(),
            e.iam_tracked_actions,
            escape(e.agreement.describe())
        );
    }
    s.push_str("</table>");
    if !la.unlogged_use.is_empty() {
        s.push_str("<p><strong>Use IAM saw in the window that the logs do not hold</strong> (not unused, whatever the logs say):</p><ul>");
        for u in &la.unlogged_use {
            let _ = write!(
                s,
                "<li>{} on {} ({} permission(s) the logs call unused)</li>",
                escape(&u.subject),
                escape(&u.iam_last_used),
                u.unused_per_logs
            );
        }
        s.push_str("</ul>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_logs_cannot_open_markup_or_scripts() {
        assert_eq!(escape("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
        assert_eq!(escape("a\"b'c&d"), "a&quot;b&#39;c&amp;d");
        assert_eq!(escape("x\u{1b}[2J"), "x\\u{1b}[2J");
    }

    #[test]
    fn anchors_are_safe_and_distinct() {
        let a = anchor("arn:aws:iam::1:role/a\"><x");
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'), "{a}");
        assert_ne!(anchor("arn:aws:iam::1:role/a"), anchor("arn:aws:iam::2:role/a"));
    }
}
