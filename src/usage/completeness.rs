//! What a run could not read. Anything that could not be read is a [`Gap`]: a corrupt or
//! truncated file, a record that is not a CloudTrail record, an S3 object that failed after its
//! retries, a LookupEvents region that answered with an error, an Athena or Lake query that
//! failed, days older than the source keeps. A run with any gap is incomplete: its policy covers
//! what was read, and nothing it did not read is ever called unused.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ingest::source::{trail_file_time, Location, RejectReason, Rejection};

/// The kind of thing that could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GapKind {
    /// A local file (or a path given) that could not be read at all.
    File,
    /// Some records of a file, object, page or query result that could not be read.
    Records,
    /// An S3 object that could not be downloaded.
    S3Object,
    /// A LookupEvents region that answered with an error (expired token, access denied,
    /// throttled past the retries).
    LookupRegion,
    /// An Athena or CloudTrail Lake query that failed, was cancelled, or whose results could not
    /// be read.
    Query,
    /// Part of the window older than the source keeps (LookupEvents: 90 days).
    Retention,
}

impl GapKind {
    /// The kind as written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            GapKind::File => "file",
            GapKind::Records => "records",
            GapKind::S3Object => "s3-object",
            GapKind::LookupRegion => "lookup-region",
            GapKind::Query => "query",
            GapKind::Retention => "retention",
        }
    }
}

/// One thing a run could not read, with what it covers as far as known.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Gap {
    /// What could not be read.
    pub kind: GapKind,
    /// Where: the file, the S3 URL, the region, the query ID.
    #[serde(rename = "where")]
    pub location: String,
    /// Start of the time it covers (RFC 3339), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// End of the time it covers, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Accounts it covers, when known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<String>,
    /// Regions it covers, when known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
    /// Why it could not be read (the first reason, when several records failed).
    pub reason: String,
    /// Records (or files) of it that were rejected; 0 when what is missing was never counted.
    pub records: u64,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Gap {
    /// A gap over `[from, to]` (either may be unknown).
    pub fn new(kind: GapKind, location: impl Into<String>, reason: impl Into<String>) -> Gap {
        Gap {
            kind,
            location: location.into(),
            from: None,
            to: None,
            accounts: Vec::new(),
            regions: Vec::new(),
            reason: reason.into(),
            records: 0,
        }
    }

    /// Sets the time it covers.
    pub fn window(mut self, from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Gap {
        self.from = from.map(rfc3339);
        self.to = to.map(rfc3339);
        self
    }

    /// Sets the regions it covers.
    pub fn regions<I: IntoIterator<Item = S>, S: Into<String>>(mut self, regions: I) -> Gap {
        self.regions = regions.into_iter().map(Into::into).filter(|r: &String| !r.is_empty()).collect();
        self
    }

    /// Sets the accounts it covers.
    pub fn accounts<I: IntoIterator<Item = S>, S: Into<String>>(mut self, accounts: I) -> Gap {
        self.accounts = accounts.into_iter().map(Into::into).filter(|a: &String| !a.is_empty()).collect();
        self
    }

    /// The gap a rejected file or record leaves: kind by where it happened, and the account,
    /// region and delivery time a trail file's name gives
    /// (`123456789012_CloudTrail_us-east-1_20261001T1205Z_x.json.gz`, delivered within about
    /// [`crate::ingest::source::DELIVERY_SLACK`] of its events).
    pub(crate) fn of_rejection(r: &Rejection) -> Gap {
        let kind = if matches!(r.reason, RejectReason::DownloadFailed(_)) {
            GapKind::S3Object
        } else if r.location == Location::File && !r.file.starts_with("lookup:") && !r.file.contains(" query ") {
            GapKind::File
        } else {
            GapKind::Records
        };
        let mut gap = Gap::new(kind, r.file.clone(), r.reason.to_string());
        let name = r.file.rsplit('/').next().unwrap_or(&r.file);
        if let Some(delivered) = trail_file_time(name) {
            gap = gap.window(Some(delivered - crate::ingest::source::DELIVERY_SLACK), Some(delivered));
            let mut parts = name.split('_');
            if let (Some(account), Some("CloudTrail"), Some(region)) = (parts.next(), parts.next(), parts.next()) {
                gap = gap.accounts([account]).regions([region]);
            }
        } else if let Some(rest) = r.file.strip_prefix("lookup:") {
            // lookup:REGION:DAY
            if let Some((region, day)) = rest.split_once(':') {
                gap = gap.regions([region]);
                if let Ok(d) = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d") {
                    let start = d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
                    gap =
                        gap.window(start, start.map(|s| s + chrono::Duration::days(1) - chrono::Duration::seconds(1)));
                }
            }
        }
        gap.records = 1;
        gap
    }

    /// Adds another gap of the same place: counts add up, the first reason stays.
    pub(crate) fn absorb(&mut self, other: &Gap) {
        self.records += other.records;
    }
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.as_str(), self.location)?;
        if self.records > 1 {
            write!(f, " ({} records)", self.records)?;
        }
        match (&self.from, &self.to) {
            (Some(a), Some(b)) => write!(f, " [{a} to {b}]")?,
            (Some(a), None) => write!(f, " [from {a}]")?,
            (None, Some(b)) => write!(f, " [to {b}]")?,
            (None, None) => {}
        }
        if !self.accounts.is_empty() {
            write!(f, " accounts {}", self.accounts.join(","))?;
        }
        if !self.regions.is_empty() {
            write!(f, " regions {}", self.regions.join(","))?;
        }
        write!(f, ": {}", self.reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rejected_trail_file_gives_its_account_region_and_delivery_window() {
        let r = Rejection {
            file: "/logs/AWSLogs/123456789012/CloudTrail/eu-west-1/2026/10/01/123456789012_CloudTrail_eu-west-1_20261001T1205Z_ab.json.gz".into(),
            location: Location::File,
            reason: RejectReason::Corrupt("corrupt or truncated gzip data".into()),
        };
        let g = Gap::of_rejection(&r);
        assert_eq!(g.kind, GapKind::File);
        assert_eq!(
            (g.accounts.as_slice(), g.regions.as_slice()),
            (&["123456789012".to_string()][..], &["eu-west-1".to_string()][..])
        );
        assert_eq!((g.from.as_deref(), g.to.as_deref()), (Some("2026-10-01T10:05:00Z"), Some("2026-10-01T12:05:00Z")));
        let page = Gap::of_rejection(&Rejection {
            file: "lookup:us-east-1:2026-10-02".into(),
            location: Location::LookupEvent(3),
            reason: RejectReason::NotARecord("invalid JSON".into()),
        });
        assert_eq!(
            (page.kind, page.regions[0].as_str(), page.from.as_deref()),
            (GapKind::Records, "us-east-1", Some("2026-10-02T00:00:00Z"))
        );
        let s3 = Gap::of_rejection(&Rejection {
            file: "s3://b/k.json.gz".into(),
            location: Location::File,
            reason: RejectReason::DownloadFailed("x".into()),
        });
        assert_eq!((s3.kind, s3.reason.as_str()), (GapKind::S3Object, "download failed: x"));
    }
}
