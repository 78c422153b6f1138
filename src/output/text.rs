//! Log-derived text shown to people. Anyone who can call an API controls strings that land in
//! CloudTrail (object keys, parameters, session names, file names); shown raw they could clear a
//! terminal, set its title, forge a summary line, or break out of a markdown code span. These
//! functions write such a string so that what is shown is the literal text, one line of it.

use std::borrow::Cow;
use std::fmt::Write as _;

/// True for characters a terminal or renderer acts on instead of showing: C0 controls (newline
/// and tab included: inside a field they would forge lines and columns), DEL, C1 controls, the
/// Unicode line and paragraph separators, and the bidirectional overrides and isolates.
fn is_control(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// One field of log-derived text for a terminal or a plain-text report: every control character
/// written as a visible escape (`\n`, `\t`, `\r`, `\u{1b}`), everything else as it is.
pub fn visible(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if is_control(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Text for stderr that iamtrim composed from several fields: control characters other than
/// newline and tab are written visibly, so no part of it can act on the terminal.
pub fn terminal_safe(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| is_control(c) && c != '\n' && c != '\t') {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.split('\n')
            .map(|line| line.split('\t').map(visible).collect::<Vec<_>>().join("\t"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// A markdown code span that shows `s` literally in running text, a list or a `<details>` block:
/// control characters made visible (so no blank line can end the block), and a backtick fence
/// longer than any run of backticks inside. Code spans are not parsed for emphasis, links,
/// headings or HTML. In a table cell use [`md_cell`].
pub(crate) fn md_code(s: &str) -> String {
    let shown = visible(s);
    let mut longest = 0;
    let mut run = 0;
    for c in shown.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let body = shown;
    let pad = if body.starts_with('`')
        || body.ends_with('`')
        || (body.starts_with(' ') && body.ends_with(' ') && !body.trim().is_empty())
    {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{body}{pad}{fence}")
}

/// [`md_code`] for a table cell: `|` escaped too, so the cell cannot be split.
pub(crate) fn md_cell(s: &str) -> String {
    md_code(s).replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_visible_and_nothing_else_changes() {
        assert_eq!(visible("arn:aws:s3:::b/k"), "arn:aws:s3:::b/k");
        assert_eq!(visible("a\u{1b}]0;pwned\u{7}b"), "a\\u{1b}]0;pwned\\u{7}b");
        assert_eq!(visible("line\n  self-check: allows 1/1"), "line\\n  self-check: allows 1/1");
        assert_eq!(visible("x\u{85}y\u{2028}z\u{202e}"), "x\\u{85}y\\u{2028}z\\u{202e}");
        assert_eq!(terminal_safe("a\n\tb\u{1b}[2J"), "a\n\tb\\u{1b}[2J");
    }

    #[test]
    fn code_spans_cannot_be_closed_or_split_by_their_content() {
        assert_eq!(md_code("s3:GetObject"), "`s3:GetObject`");
        assert_eq!(md_code("a`b"), "``a`b``");
        assert_eq!(md_code("`x"), "`` `x ``");
        assert_eq!(md_code("a|b</details>"), "`a|b</details>`");
        assert_eq!(md_cell("a|b"), "`a\\|b`");
        assert_eq!(md_code("two\n\nlines"), "`two\\n\\nlines`");
    }
}
