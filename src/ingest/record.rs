//! What a reader hands over: one record's JSON text with where it sits in its file, or a
//! rejection naming the file, the position and what was wrong.

use std::fmt;

/// Where a record sits in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum Location {
    /// The file as a whole (it could not be read or holds no records).
    File,
    /// `Records[i]` of a trail log document.
    Record(usize),
    /// `Events[i].CloudTrailEvent` of lookup-events output.
    LookupEvent(usize),
    /// Line `n` (1-based) of a JSON Lines file.
    Line(usize),
    /// `Records[i]` of the log document on line `n` of a JSON Lines file.
    LineRecord(usize, usize),
    /// `Events[i].CloudTrailEvent` of the lookup-events output on line `n` of a JSON Lines file.
    LineLookupEvent(usize, usize),
    /// Row `n` (1-based, header not counted) of a query's results (Athena, CloudTrail Lake).
    ResultRow(usize),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File => f.write_str("file"),
            Location::Record(i) => write!(f, "Records[{i}]"),
            Location::LookupEvent(i) => write!(f, "Events[{i}].CloudTrailEvent"),
            Location::Line(n) => write!(f, "line {n}"),
            Location::LineRecord(n, i) => write!(f, "line {n} Records[{i}]"),
            Location::LineLookupEvent(n, i) => write!(f, "line {n} Events[{i}].CloudTrailEvent"),
            Location::ResultRow(n) => write!(f, "result row {n}"),
        }
    }
}

/// A record or file that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Rejection {
    /// The file, as given or found.
    pub file: String,
    /// Where in the file.
    pub location: Location,
    /// What was wrong.
    pub reason: RejectReason,
}

/// Why a file or record could not be used: the kind decides the gap it leaves (an S3 object, a
/// file, records); the text says what happened, as printed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "kebab-case")]
pub enum RejectReason {
    /// A local file or directory that could not be opened, listed or read (`cannot read: ...`).
    Io(String),
    /// An S3 object whose download failed after its retries (the error, naming the permission).
    DownloadFailed(String),
    /// A file with nothing but white space in it.
    Empty,
    /// JSON that is not a CloudTrail log document.
    NotALog,
    /// Compressed data or JSON that is corrupt or cut short; the text says what is lost.
    Corrupt(String),
    /// A document, line or record over a read limit (`--max-document-mb`, `--max-record-mb`).
    OverLimit(String),
    /// A record with bytes that are not UTF-8.
    NotUtf8,
    /// A record (or query result row) that is not JSON or not a CloudTrail record.
    NotARecord(String),
    /// A CloudTrail record with a field iamtrim cannot use (an eventTime that is no time,
    /// requestParameters nested too deep to read).
    Unusable(String),
}

impl RejectReason {
    /// The same kind of reason, with what it led to added (`...; records after the break are
    /// lost`).
    pub(crate) fn and_then_lost(&self, what: &str) -> RejectReason {
        let text = format!("{self}; {what}");
        match self {
            RejectReason::Io(_) => RejectReason::Io(text),
            RejectReason::DownloadFailed(d) => RejectReason::DownloadFailed(format!("{d}; {what}")),
            RejectReason::OverLimit(_) => RejectReason::OverLimit(text),
            RejectReason::NotARecord(_) => RejectReason::NotARecord(text),
            RejectReason::Unusable(_) => RejectReason::Unusable(text),
            RejectReason::Empty | RejectReason::NotALog | RejectReason::Corrupt(_) | RejectReason::NotUtf8 => {
                RejectReason::Corrupt(text)
            }
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RejectReason::Io(s)
            | RejectReason::Corrupt(s)
            | RejectReason::OverLimit(s)
            | RejectReason::NotARecord(s)
            | RejectReason::Unusable(s) => f.write_str(s),
            RejectReason::DownloadFailed(s) => write!(f, "download failed: {s}"),
            RejectReason::Empty => f.write_str("empty file: no CloudTrail records"),
            RejectReason::NotALog => f.write_str("not a CloudTrail log: no `Records` or `Events` array"),
            RejectReason::NotUtf8 => f.write_str("record contains bytes that are not valid UTF-8"),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Location::File => write!(f, "{}: {}", self.file, self.reason),
            loc => write!(f, "{}: {loc}: {}", self.file, self.reason),
        }
    }
}

/// One item read from a file: a record's JSON text, or a rejection.
#[derive(Debug)]
pub enum Item<'a> {
    /// The JSON text of one CloudTrail record.
    Record {
        /// Where it is.
        location: Location,
        /// The record.
        json: &'a str,
    },
    /// Something that could not be read; counted as one rejected record.
    Rejected(Rejection),
    /// A whole file positively of another kind (what it is): counted as a file that is not a
    /// log, like the files discovery passes over, and no record.
    NotALog(&'static str),
}

/// What a reader hands over: one item, or records in a row of one log document, in order,
/// handed over together so that a reader can parse them all before it maps any (each stage's
/// code then stays in the instruction cache). Only the `_batched` readers hand over
/// [`Delivered::Records`]; the others give one [`Item`] at a time.
#[derive(Debug)]
pub enum Delivered<'a> {
    /// One item.
    One(Item<'a>),
    /// Records, each with where it is.
    Records(&'a [(Location, &'a str)]),
}

impl<'a> Delivered<'a> {
    /// Hands what was delivered to `f` one item at a time, records one [`Item::Record`] each.
    pub(crate) fn one_by_one(self, f: &mut dyn FnMut(Item<'a>)) {
        match self {
            Delivered::One(item) => f(item),
            Delivered::Records(records) => {
                for &(location, json) in records {
                    f(Item::Record { location, json })
                }
            }
        }
    }
}

impl Location {
    pub(super) fn on_line(self, n: usize) -> Location {
        match self {
            Location::Record(i) => Location::LineRecord(n, i),
            Location::LookupEvent(i) => Location::LineLookupEvent(n, i),
            Location::File => Location::Line(n),
            other => other,
        }
    }
}
