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
    pub reason: String,
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
