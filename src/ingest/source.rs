//! Local CloudTrail sources: files and directories of trail log files (`{"Records":[...]}`,
//! plain or gzipped), JSON Lines of records, and saved `aws cloudtrail lookup-events` output.
//!
//! Files are read one at a time into a buffer and their records handed to a callback as raw
//! JSON text, so memory follows the largest file, not the input. A file or record that cannot
//! be read is handed over as a [`Rejection`] naming the file and record, and reading goes on.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;

use chrono::Duration;
use flate2::read::MultiGzDecoder;
use serde_json::value::RawValue;

use super::document::{read_document, RecordFn};
pub use super::record::{Delivered, Item, Location, RejectReason, Rejection};

pub use super::discover::{discover, is_log_name, trail_dir_interval, trail_file_time, Discovery};

/// How long after an event CloudTrail may deliver the file holding it, for skipping files by
/// the timestamp in their name. CloudTrail delivers within about 5 minutes on average.
pub(crate) const DELIVERY_SLACK: Duration = Duration::hours(2);

/// How much of one input is read at most, whatever it holds: a decompression bomb or a huge
/// record becomes a counted rejection, never an abort or an unbounded allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Bytes (decompressed) of one log document, or one line of a JSON Lines file.
    pub max_document: usize,
    /// Bytes of one record.
    pub max_record: usize,
}

/// Default of `--max-document-mb`: trail files hold a few MB; memory stays near twice this per
/// reading thread.
pub(crate) const DEFAULT_MAX_DOCUMENT_MB: usize = 64;
/// Default of `--max-record-mb`: CloudTrail records are at most a few hundred kB.
pub(crate) const DEFAULT_MAX_RECORD_MB: usize = 4;

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits { max_document: DEFAULT_MAX_DOCUMENT_MB << 20, max_record: DEFAULT_MAX_RECORD_MB << 20 }
    }
}

fn mib(bytes: usize) -> String {
    format!("{} MiB", bytes >> 20)
}

/// Reads one file and hands each record (or rejection) to `emit`.
pub fn read_file(path: &Path, emit: &mut dyn FnMut(Item<'_>)) {
    read_file_with(path, &ReadLimits::default(), emit)
}

/// [`read_file`] within `limits`.
pub(crate) fn read_file_with(path: &Path, limits: &ReadLimits, emit: &mut dyn FnMut(Item<'_>)) {
    read_file_batched(path, limits, &mut |d| d.one_by_one(emit))
}

/// [`read_file_with`], the records of a log document delivered a batch at a time
/// ([`Delivered::Records`]).
pub(crate) fn read_file_batched(path: &Path, limits: &ReadLimits, emit: &mut dyn FnMut(Delivered<'_>)) {
    let name = path.display().to_string();
    match fs::File::open(path) {
        Ok(f) => read_reader(BufReader::with_capacity(256 * 1024, f), &name, limits, emit),
        Err(e) => one(
            emit,
            Item::Rejected(Rejection {
                file: name,
                location: Location::File,
                reason: RejectReason::Io(format!("cannot read: {e}")),
            }),
        ),
    }
}

/// Reads the bytes of one log object (e.g. downloaded from S3), named `name` in rejections.
pub fn read_bytes(bytes: &[u8], name: &str, limits: &ReadLimits, emit: &mut dyn FnMut(Item<'_>)) {
    read_reader(bytes, name, limits, &mut |d| d.one_by_one(emit))
}

/// Reads a log stream, gunzipping it when it starts with the gzip magic bytes; the records of a
/// log document are delivered a batch at a time ([`Delivered::Records`]).
pub(crate) fn read_reader<R: BufRead>(
    mut raw: R,
    name: &str,
    limits: &ReadLimits,
    emit: &mut dyn FnMut(Delivered<'_>),
) {
    let gzipped = match raw.fill_buf() {
        Ok(head) => head.starts_with(&[0x1f, 0x8b]),
        Err(e) => {
            return one(
                emit,
                Item::Rejected(Rejection {
                    file: name.to_string(),
                    location: Location::File,
                    reason: RejectReason::Io(format!("cannot read: {e}")),
                }),
            )
        }
    };
    if gzipped {
        read_stream_with(BufReader::with_capacity(256 * 1024, MultiGzDecoder::new(raw)), name, limits, emit);
    } else {
        read_stream_with(raw, name, limits, emit);
    }
}

/// Lines of a stream, blank ones skipped; a read error, or a line longer than `limit`, ends it
/// and is kept.
struct Lines<R> {
    reader: R,
    number: usize,
    error: Option<RejectReason>,
    limit: usize,
}

/// One non-blank line and its 1-based number; `cut` when a read error ended it early.
struct Line {
    number: usize,
    bytes: Vec<u8>,
    cut: bool,
}

impl<R: BufRead> Lines<R> {
    fn next_line(&mut self) -> Option<Line> {
        if self.error.is_some() {
            return None;
        }
        loop {
            let mut bytes = spare_line();
            self.number += 1;
            // At most `limit` bytes, so the buffer never doubles past the limit; a line that
            // fills it without ending, with more to come, is over the limit.
            match std::io::Read::take(&mut self.reader, self.limit as u64).read_until(b'\n', &mut bytes) {
                Ok(0) => return None,
                Ok(n)
                    if n == self.limit
                        && bytes.last() != Some(&b'\n')
                        && self.reader.fill_buf().is_ok_and(|b| !b.is_empty()) =>
                {
                    // Not read further: a decompression bomb or a runaway line would take memory
                    // and time without end.
                    self.error = Some(RejectReason::OverLimit(format!(
                        "a line or document over {} (decompressed): the rest of the file is not read (raise the limit with --max-document-mb)",
                        mib(self.limit)
                    )));
                    return None;
                }
                Ok(_) if bytes.iter().all(u8::is_ascii_whitespace) => {
                    keep_spare_line(bytes);
                    continue;
                }
                Ok(_) => return Some(Line { number: self.number, bytes, cut: false }),
                Err(e) => {
                    self.error = Some(describe_read_error(&e));
                    return (!bytes.iter().all(u8::is_ascii_whitespace)).then_some(Line {
                        number: self.number,
                        bytes,
                        cut: true,
                    });
                }
            }
        }
    }
}

/// The largest line buffer a thread keeps for its next line.
const MAX_SPARE_LINE: usize = 16 << 20;

thread_local! {
    /// The buffer of the last line read, kept for the next: a trail object is one line of about
    /// 1 MB, and a fresh buffer per file would be grown (and its pages faulted in) every time.
    static SPARE_LINE: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::default();
}

/// An empty buffer, the thread's spare one when it has one.
fn spare_line() -> Vec<u8> {
    let mut v = SPARE_LINE.with(|s| std::mem::take(&mut *s.borrow_mut()));
    v.clear();
    v
}

/// Keeps `v` as the thread's spare line buffer, when it is larger than the one kept (and not
/// over [`MAX_SPARE_LINE`]).
fn keep_spare_line(v: Vec<u8>) {
    if v.capacity() <= MAX_SPARE_LINE {
        SPARE_LINE.with(|s| {
            let mut s = s.borrow_mut();
            if s.capacity() < v.capacity() {
                *s = v;
            }
        });
    }
}

/// Hands over one item.
fn one(emit: &mut dyn FnMut(Delivered<'_>), item: Item<'_>) {
    emit(Delivered::One(item))
}

fn describe_read_error(e: &std::io::Error) -> RejectReason {
    RejectReason::Corrupt(format!("corrupt or truncated gzip data ({e})"))
}

/// Reads records from a (decompressed) stream. JSON Lines are read a line at a time, so memory
/// does not grow with the file; a log document (`{"Records":[...]}` over several lines, or
/// lookup-events output) is read whole, which for trail files means one delivery object.
pub fn read_stream<R: BufRead>(reader: R, name: &str, emit: &mut dyn FnMut(Item<'_>)) {
    read_stream_with(reader, name, &ReadLimits::default(), &mut |d| d.one_by_one(emit))
}

/// [`read_stream`] within `limits`.
pub(crate) fn read_stream_with<R: BufRead>(
    reader: R,
    name: &str,
    limits: &ReadLimits,
    emit: &mut dyn FnMut(Delivered<'_>),
) {
    let rejection =
        |location, reason: RejectReason| Item::Rejected(Rejection { file: name.to_string(), location, reason });
    let mut lines = Lines { reader, number: 0, error: None, limit: limits.max_document.max(1) };
    let max_record = limits.max_record;
    let Some(first) = lines.next_line() else {
        let reason = lines.error.take().unwrap_or(RejectReason::Empty);
        return one(emit, rejection(Location::File, reason));
    };
    let (mut first_text, first_invalid) = to_utf8(first.bytes);
    let bom = first_text.len() - first_text.trim_start_matches('\u{feff}').len();
    first_text.drain(..bom);
    let head = first_text.trim();
    // A compact log document on one line is read as such without parsing it twice.
    let line_mode = starts_with_key(head, "Records")
        || starts_with_key(head, "Events")
        || serde_json::from_str::<&RawValue>(head).is_ok_and(|v| v.get().starts_with('{'));

    if !line_mode {
        // One document: the first line and everything after it.
        let mut rest = Vec::new();
        let mut gzip_error = lines.error.take();
        if gzip_error.is_none() {
            let room = lines.limit.saturating_sub(first_text.len());
            match std::io::Read::read_to_end(&mut std::io::Read::take(&mut lines.reader, room as u64 + 1), &mut rest) {
                Ok(n) if n > room => {
                    let reason = RejectReason::OverLimit(format!(
                        "a log document over {} (decompressed): not read (raise the limit with --max-document-mb)",
                        mib(lines.limit)
                    ));
                    return one(emit, rejection(Location::File, reason));
                }
                Ok(_) => {}
                Err(e) => gzip_error = Some(describe_read_error(&e)),
            }
        }
        let (rest_text, rest_invalid) = to_utf8(rest);
        let body = first_text + &rest_text;
        let invalid = first_invalid || rest_invalid;
        let record: &mut RecordFn<'_> = &mut |loc, json| checked_record(invalid, loc, json, name, max_record);
        read_document(&body, record, &|loc, reason| rejection(loc, reason), gzip_error.as_ref(), emit);
        return keep_spare_line(body.into_bytes());
    }

    // JSON Lines, with one line of look-ahead so a file of a single line (a compact log
    // document) is located as a document rather than as "line 1".
    let mut current = DecodedLine { number: first.number, text: first_text, cut: first.cut, invalid: first_invalid };
    let mut single = true;
    let mut last_cut;
    loop {
        let next = lines.next_line();
        single &= next.is_none() && current.number == first.number;
        last_cut = current.cut;
        read_line(&current, single, name, lines.error.as_ref(), max_record, emit);
        match next {
            Some(l) => {
                let (text, invalid) = to_utf8(l.bytes);
                let done = std::mem::replace(&mut current, DecodedLine { number: l.number, text, cut: l.cut, invalid });
                keep_spare_line(done.text.into_bytes());
            }
            None => break,
        }
    }
    keep_spare_line(current.text.into_bytes());
    // A break between lines is reported here; one inside a line was reported with that line.
    if let (Some(e), false) = (lines.error, last_cut) {
        one(emit, rejection(Location::File, e.and_then_lost("records after the break are lost")));
    }
}

/// A record, or its rejection when it is larger than `max_record` bytes or holds bytes that were
/// not UTF-8 (replaced by U+FFFD).
fn checked_record<'j>(
    had_invalid_utf8: bool,
    location: Location,
    json: &'j str,
    name: &str,
    max_record: usize,
) -> Item<'j> {
    if json.len() > max_record {
        let reason = RejectReason::OverLimit(format!(
            "a record of {} bytes, over the {} limit: not read (raise it with --max-record-mb)",
            json.len(),
            mib(max_record)
        ));
        return Item::Rejected(Rejection { file: name.to_string(), location, reason });
    }
    if had_invalid_utf8 && json.contains('\u{fffd}') {
        Item::Rejected(Rejection { file: name.to_string(), location, reason: RejectReason::NotUtf8 })
    } else {
        Item::Record { location, json }
    }
}

/// A line decoded as UTF-8; `invalid` when bytes had to be replaced.
struct DecodedLine {
    number: usize,
    text: String,
    cut: bool,
    invalid: bool,
}

/// One line of a JSON Lines file: a record, or a whole log document. `break_error` is the read
/// error that cut the line short, when `line.cut`.
fn read_line(
    line: &DecodedLine,
    single: bool,
    name: &str,
    break_error: Option<&RejectReason>,
    max_record: usize,
    emit: &mut dyn FnMut(Delivered<'_>),
) {
    let rejection =
        |location, reason: RejectReason| Item::Rejected(Rejection { file: name.to_string(), location, reason });
    let text = line.text.trim();
    let invalid = line.invalid;
    let n = line.number;
    let break_error = if line.cut { break_error } else { None };
    if starts_with_key(text, "Records") || starts_with_key(text, "Events") {
        let on_line = |loc: Location| if single { loc } else { loc.on_line(n) };
        let record: &mut RecordFn<'_> = &mut |loc, json| checked_record(invalid, on_line(loc), json, name, max_record);
        return read_document(text, record, &|loc, reason| rejection(on_line(loc), reason), break_error, emit);
    }
    match break_error {
        Some(e) if serde_json::from_str::<&RawValue>(text).is_err() => {
            one(emit, rejection(Location::Line(n), e.and_then_lost("line cut short")))
        }
        Some(e) => {
            one(emit, checked_record(invalid, Location::Line(n), text, name, max_record));
            one(emit, rejection(Location::File, e.and_then_lost("records after the break are lost")));
        }
        None => one(emit, checked_record(invalid, Location::Line(n), text, name, max_record)),
    }
}

fn starts_with_key(line: &str, key: &str) -> bool {
    line.strip_prefix('{')
        .map(str::trim_start)
        .and_then(|r| r.strip_prefix('"'))
        .is_some_and(|r| r.starts_with(key) && r[key.len()..].starts_with('"'))
}

/// Decodes bytes as UTF-8, replacing invalid sequences with U+FFFD; the flag says whether any were.
pub(crate) fn to_utf8(bytes: Vec<u8>) -> (String, bool) {
    match String::from_utf8(bytes) {
        Ok(s) => (s, false),
        Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// A reader that fails after its bytes, as a broken gzip stream does.
    struct Broken<'a>(&'a [u8]);
    impl Read for Broken<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "x"));
            }
            let n = buf.len().min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn show(out: &mut Vec<String>) -> impl FnMut(Item<'_>) + '_ {
        |item| {
            out.push(match item {
                Item::Record { location, json } => format!("ok {location} {}", json.len()),
                Item::Rejected(r) => format!("rejected {} {}", r.location, r.reason),
                Item::NotALog(what) => format!("not a log: {what}"),
            })
        }
    }

    fn collect_bytes(bytes: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        read_stream(std::io::Cursor::new(bytes), "f.json", &mut show(&mut out));
        out
    }

    fn collect(text: &str) -> Vec<String> {
        collect_bytes(text.as_bytes())
    }

    fn collect_broken(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        read_stream(BufReader::new(Broken(text.as_bytes())), "f.json", &mut show(&mut out));
        out
    }

    #[test]
    fn reads_trail_documents_lookup_output_and_json_lines() {
        let doc = "{\n \"Records\": [ {\"a\":1}, {\"b\":22} ]\n}";
        assert_eq!(collect(doc), ["ok Records[0] 7", "ok Records[1] 8"]);
        assert_eq!(collect(&doc.replace('\n', "")), ["ok Records[0] 7", "ok Records[1] 8"]);
        let lookup = r#"{"Events":[{"EventId":"1","CloudTrailEvent":"{\"a\":1}"}],"NextToken":"x"}"#;
        assert_eq!(collect(lookup), ["ok Events[0].CloudTrailEvent 7"]);
        let two_docs = format!("{lookup}\n{}\n", doc.replace('\n', ""));
        assert_eq!(
            collect(&two_docs),
            ["ok line 1 Events[0].CloudTrailEvent 7", "ok line 2 Records[0] 7", "ok line 2 Records[1] 8"]
        );
        let pretty_lookup = "{\n \"Events\": [\n  {\"CloudTrailEvent\": \"{}\"},\n  {\"EventId\": \"2\"}\n ]\n}";
        assert_eq!(
            collect(pretty_lookup),
            [
                "ok Events[0].CloudTrailEvent 2",
                "rejected Events[1].CloudTrailEvent lookup event has no CloudTrailEvent"
            ]
        );
        let lines = "{\"a\":1}\n\n{\"b\":2}\n";
        assert_eq!(collect(lines), ["ok line 1 7", "ok line 3 7"]);
        assert_eq!(collect("\u{feff}{\"a\":1}\n"), ["ok line 1 7"]);
    }

    #[test]
    fn bad_documents_are_rejected_with_locations() {
        let out = collect("{\"Records\": [ {\"a\":1}, {\"b\":");
        assert_eq!(out[0], "ok Records[0] 7");
        assert!(out[1].starts_with("rejected Records[1] truncated JSON"), "{out:?}");
        assert_eq!(collect("{\n\"foo\": 1}\n"), ["rejected file not a CloudTrail log: no `Records` or `Events` array"]);
        assert_eq!(collect("   \n"), ["rejected file empty file: no CloudTrail records"]);
        assert!(collect("this is not json")[0].starts_with("rejected file not JSON"));
        // Bytes that are not UTF-8 reject their record only.
        let mut bad = b"{\"Records\": [ {\"a\":\"".to_vec();
        bad.extend_from_slice(&[0xff, 0xfe]);
        bad.extend_from_slice(b"\"}, {\"b\":1} ]}");
        let out = collect_bytes(&bad);
        assert!(out[0].contains("rejected Records[0] record contains bytes that are not valid UTF-8"), "{out:?}");
        assert_eq!(out[1], "ok Records[1] 7");
        let mut bad_line = b"{\"a\":\"".to_vec();
        bad_line.extend_from_slice(&[0xc3]);
        bad_line.extend_from_slice(b"\"}\n{\"b\":2}\n");
        assert_eq!(
            collect_bytes(&bad_line),
            ["rejected line 1 record contains bytes that are not valid UTF-8", "ok line 2 7"]
        );
    }

    #[test]
    fn broken_streams_keep_what_came_before_the_break() {
        assert_eq!(
            collect_broken("{\"a\":1}\n{\"b\":"),
            ["ok line 1 7", "rejected line 2 corrupt or truncated gzip data (x); line cut short"]
        );
        let out = collect_broken("{\"Records\": [ {\"a\":1}, {\"b\":");
        assert_eq!(out[0], "ok Records[0] 7");
        assert!(
            out[1].starts_with("rejected Records[1] corrupt or truncated gzip data (x); JSON ends early"),
            "{out:?}"
        );
        assert_eq!(collect_broken(""), ["rejected file corrupt or truncated gzip data (x)"]);
        assert_eq!(
            collect_broken("{\"a\":1}\n"),
            ["ok line 1 7", "rejected file corrupt or truncated gzip data (x); records after the break are lost"]
        );
    }

    #[test]
    fn records_delivered_in_batches_are_the_items_read_one_by_one_in_the_same_order() {
        // 150 records, one of them not UTF-8 (rejected in its place), and the document cut
        // short (the rejection of the rest comes after every record before it).
        let mut doc = b"{\"Records\": [".to_vec();
        for i in 0..150 {
            if i > 0 {
                doc.push(b',');
            }
            doc.extend_from_slice(format!("{{\"n\":{i},\"s\":\"").as_bytes());
            if i == 70 {
                doc.extend_from_slice(&[0xff]);
            }
            doc.extend_from_slice(b"\"}");
        }
        let cut = &doc[..doc.len() - 5];
        for bytes in [&doc[..], cut] {
            let whole = doc_end(bytes);
            let one_by_one = collect_bytes(&whole);
            let (mut batched, mut sizes) = (Vec::new(), Vec::new());
            read_reader(std::io::Cursor::new(&whole[..]), "f.json", &ReadLimits::default(), &mut |d| {
                if let Delivered::Records(r) = &d {
                    sizes.push(r.len());
                }
                d.one_by_one(&mut show(&mut batched))
            });
            assert_eq!(batched, one_by_one);
            assert!(one_by_one.iter().any(|r| r.starts_with("rejected Records[70]")), "{one_by_one:?}");
            // Records 0..70 before the rejection: 64 and 6; then 64, 15 (or fewer when cut).
            assert_eq!(sizes[..2], [64, 6]);
            assert!(sizes.iter().all(|n| (1..=64).contains(n)), "{sizes:?}");
            if bytes.len() < doc.len() {
                let last = one_by_one.last().map_or("", String::as_str);
                assert!(last.starts_with("rejected Records[149] truncated JSON"), "{one_by_one:?}");
            }
        }

        fn doc_end(bytes: &[u8]) -> Vec<u8> {
            let mut v = bytes.to_vec();
            if bytes.ends_with(b"\"}") {
                v.extend_from_slice(b"]}");
            }
            v
        }
    }

    #[test]
    fn trail_names_and_directories_give_delivery_times() {
        let t = trail_file_time("123456789012_CloudTrail_us-east-1_20261001T1205Z_AbCd.json.gz").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-10-01T12:05:00+00:00");
        assert!(trail_file_time("events.json").is_none());
        let (s, e) = trail_dir_interval(Path::new("x/AWSLogs/123/CloudTrail/us-east-1/2026/02/28")).unwrap();
        assert_eq!(s.to_rfc3339(), "2026-02-28T00:00:00+00:00");
        assert!(e < s + Duration::days(1) && e > s + Duration::hours(23));
        let (s, _) = trail_dir_interval(Path::new("AWSLogs/o-abc/123/CloudTrail/eu-west-1/2026/02")).unwrap();
        assert_eq!(s.to_rfc3339(), "2026-02-01T00:00:00+00:00");
        assert!(trail_dir_interval(Path::new("AWSLogs/123/CloudTrail/us-east-1")).is_none());
        assert!(is_log_name("a.json.gz") && is_log_name("b.jsonl") && !is_log_name("c.txt"));
        assert!(!is_log_name("123_CloudTrail-Digest_us-east-1_x_20261001T1205Z.json.gz"));
    }
}
