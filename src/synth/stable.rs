//! Names that vary with time or per request: a log stream named for the day, an object key
//! under `2026/10/07/` or `dt=2026-10-07/`, a UUID, an epoch timestamp, a long hex or base32 ID,
//! Lambda's `YYYY/MM/DD/[$LATEST]<hex>` streams. A policy that copies them refuses tomorrow's
//! names, so the path is generalized from its first varying segment, inside its container: the
//! stable prefix stays, and the container (bucket, log group, table, function) is never widened.

/// What made a segment vary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Varying {
    /// A date or time (`2026/10/07`, `2026-10-07`, `20261007`, `dt=2026-10-07`, `year=2026`).
    Date,
    /// Epoch seconds or milliseconds (`1791331200`, `1791331200000`).
    Epoch,
    /// A UUID.
    Uuid,
    /// A long hex, base32 or alphanumeric ID (request, task, execution IDs).
    Id,
    /// A Lambda version in a log stream name (`[$LATEST]`, `[12]`).
    LambdaVersion,
}

impl Varying {
    /// How the summary names it: "a date segment".
    pub fn describe(self) -> &'static str {
        match self {
            Varying::Date => "a date",
            Varying::Epoch => "an epoch timestamp",
            Varying::Uuid => "a UUID",
            Varying::Id => "a generated ID",
            Varying::LambdaVersion => "a Lambda version",
        }
    }
}

/// The byte offset of the first segment of `path` (segments end at `/` and `:`) that varies with
/// time or per request, and why; `None` when every segment is stable.
pub fn first_varying(path: &str) -> Option<(usize, Varying)> {
    let mut segments = segments(path).peekable();
    while let Some((start, seg)) = segments.next() {
        // A year segment followed by a month segment: `2026/10/07/...`.
        if is_year(seg) && segments.peek().is_some_and(|(_, next)| is_month(next)) {
            return Some((start, Varying::Date));
        }
        if let Some(kind) = segment_varies(seg) {
            return Some((start, kind));
        }
    }
    None
}

/// The segments of `path` with their offsets.
fn segments(path: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = 0;
    path.split(['/', ':']).map(move |s| {
        let at = start;
        start += s.len() + 1;
        (at, s)
    })
}

fn is_year(s: &str) -> bool {
    s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) && (1970..=2100).contains(&s.parse::<u32>().unwrap_or(0))
}

/// The digits `s` starts with.
fn leading_digits(s: &str) -> &str {
    &s[..s.bytes().take_while(u8::is_ascii_digit).count()]
}

fn is_month(s: &str) -> bool {
    let digits = leading_digits(s);
    digits.len() == 2 && (1..=12).contains(&digits.parse::<u32>().unwrap_or(0))
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Why one segment varies, if it does.
fn segment_varies(seg: &str) -> Option<Varying> {
    // Every rule but the UUID's needs a digit or a `[`, and a UUID needs 36 bytes: a segment with
    // neither (a plain word) is decided here.
    if !seg.bytes().any(|b| b.is_ascii_digit() || b == b'[') {
        return has_uuid(seg).then_some(Varying::Uuid);
    }
    if seg.contains("[$LATEST]") || lambda_version(seg) {
        return Some(Varying::LambdaVersion);
    }
    // `key=value` partitions of dates and times.
    if let Some((key, value)) = seg.split_once('=') {
        let date_key = ["dt", "date", "day", "ds", "year", "month", "hour", "minute", "yyyy", "mm", "dd", "hh", "time"]
            .iter()
            .any(|k| k.eq_ignore_ascii_case(key));
        if date_key && value.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
            return Some(Varying::Date);
        }
    }
    if has_uuid(seg) {
        return Some(Varying::Uuid);
    }
    // Words: runs of letters and digits.
    let mut words = seg.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty());
    while let Some(w) = words.next() {
        // 2026-10-07, 2026_10_07, 2026.10.07 (and a time after it).
        let mut ahead = words.clone();
        if is_year(w) && ahead.next().is_some_and(is_month) && ahead.next().is_some_and(is_day) {
            return Some(Varying::Date);
        }
        if all_digits(w) {
            match w.len() {
                8 | 12 | 14 if compact_date(w) => return Some(Varying::Date),
                10 | 13 if (1_000_000_000..=2_100_000_000).contains(&w[..10].parse::<u64>().unwrap_or(0)) => {
                    return Some(Varying::Epoch)
                }
                _ => {}
            }
            continue;
        }
        // 20261007T120000Z.
        if w.len() >= 9 && compact_date(&w[..8]) && w.as_bytes()[8] == b'T' {
            return Some(Varying::Date);
        }
        if is_generated_id(w) {
            return Some(Varying::Id);
        }
    }
    None
}

fn is_day(s: &str) -> bool {
    let digits = leading_digits(s);
    digits.len() == 2 && (1..=31).contains(&digits.parse::<u32>().unwrap_or(0))
}

/// `YYYYMMDD...` with a plausible year, month and day.
fn compact_date(w: &str) -> bool {
    w.len() >= 8 && all_digits(&w[..8]) && is_year(&w[..4]) && is_month(&w[4..6]) && is_day(&w[6..8])
}

/// `[12]` as Lambda writes a published version into its log stream names.
fn lambda_version(seg: &str) -> bool {
    seg.split('[').skip(1).any(|rest| rest.split_once(']').is_some_and(|(v, _)| all_digits(v)))
}

/// 8-4-4-4-12 hex digits.
fn has_uuid(seg: &str) -> bool {
    let b = seg.as_bytes();
    if b.len() < 36 {
        return false;
    }
    (0..=b.len() - 36).any(|i| {
        let w = &b[i..i + 36];
        w.iter()
            .enumerate()
            .all(|(j, c)| if matches!(j, 8 | 13 | 18 | 23) { *c == b'-' } else { c.is_ascii_hexdigit() })
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
            && b.get(i + 36).is_none_or(|c| !c.is_ascii_alphanumeric())
    })
}

/// A long run that reads as a generated ID rather than a name: 16 or more hex digits with a digit
/// among them, or 20 or more letters and digits of which at least a quarter are digits.
fn is_generated_id(w: &str) -> bool {
    let digits = w.bytes().filter(u8::is_ascii_digit).count();
    if w.len() >= 16 && digits > 0 && w.bytes().all(|b| b.is_ascii_hexdigit()) {
        return true;
    }
    w.len() >= 20 && digits * 4 >= w.len() && digits < w.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_vary_with_time_are_found_at_their_first_varying_segment() {
        // (path below the container, where the generalized path ends, why)
        let cases: &[(&str, Option<(&str, Varying)>)] = &[
            ("archive/2026/10/07/report-0.csv", Some(("archive/", Varying::Date))),
            ("log-stream:2026/10/07/app", Some(("log-stream:", Varying::Date))),
            ("log-stream:2026/10/07/[$LATEST]0f1e2d3c4b5a69788796a5b4c3d2e1f0", Some(("log-stream:", Varying::Date))),
            ("log-stream:app/[$LATEST]0f1e2d3c", Some(("log-stream:app/", Varying::LambdaVersion))),
            ("log-stream:app/[12]0f1e2d3c", Some(("log-stream:app/", Varying::LambdaVersion))),
            ("logs/dt=2026-10-07/part-0.parquet", Some(("logs/", Varying::Date))),
            ("logs/year=2026/month=10/x.gz", Some(("logs/", Varying::Date))),
            ("exports/report-2026-10-07.csv", Some(("exports/", Varying::Date))),
            ("exports/report_20261007.csv", Some(("exports/", Varying::Date))),
            ("exports/20261007T120000Z.json", Some(("exports/", Varying::Date))),
            ("snapshots/backup-1791331200.tar", Some(("snapshots/", Varying::Epoch))),
            ("snapshots/backup-1791331200123.tar", Some(("snapshots/", Varying::Epoch))),
            ("jobs/6f1c2d3e-4b5a-4978-8796-a5b4c3d2e1f0/out.json", Some(("jobs/", Varying::Uuid))),
            // A UUID of hex letters only (no digit in the segment).
            ("jobs/abcdefab-abcd-abcd-abcd-abcdefabcdef/out.json", Some(("jobs/", Varying::Uuid))),
            ("ecs/app/3f2a9c8b7d6e5f4a3b2c1d0e9f8a7b6c", Some(("ecs/app/", Varying::Id))),
            ("stream/2026-10-01T00:00:00.000", Some(("stream/", Varying::Date))),
            // Stable names stay.
            ("uploads/report.csv", None),
            ("config/app-v2/settings.json", None),
            ("builds/app.zip", None),
            ("data/2026-plan.txt", None),
            ("ids/12345", None),
            ("MyApplicationBucketBackup/x", None),
        ];
        for (path, want) in cases {
            let got = first_varying(path).map(|(at, kind)| (&path[..at], kind));
            assert_eq!(got, *want, "{path}");
        }
    }
}
