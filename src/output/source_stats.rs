//! The counters a source reports for a run: printed (one line per source, or per region of
//! LookupEvents) and kept in the run report under `source_stats`.

use std::fmt;

/// The counters of the source a run read.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(untagged)]
pub enum SourceStats {
    /// LookupEvents: one entry per region.
    #[cfg(feature = "aws")]
    Lookup(Vec<crate::aws::lookup::RegionStats>),
    /// Trail files in S3.
    #[cfg(feature = "aws")]
    S3(crate::aws::s3::S3Stats),
    /// An Athena query.
    #[cfg(feature = "aws")]
    Athena(crate::aws::athena::AthenaStats),
    /// A CloudTrail Lake query.
    #[cfg(feature = "aws")]
    Lake(crate::aws::lake::LakeStats),
    /// The usage store: the days it served and the days read from the source.
    #[cfg(feature = "store")]
    Store(crate::usage::store::StoreDays),
}

/// The lines printed after the read (one per LookupEvents region).
impl fmt::Display for SourceStats {
    #[cfg_attr(not(any(feature = "aws", feature = "store")), allow(unused_variables))]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            #[cfg(feature = "aws")]
            SourceStats::Lookup(regions) => {
                for (i, r) in regions.iter().enumerate() {
                    if i > 0 {
                        f.write_str("\n")?;
                    }
                    write!(f, "{r}")?;
                }
                Ok(())
            }
            #[cfg(feature = "aws")]
            SourceStats::S3(s) => write!(f, "{s}"),
            #[cfg(feature = "aws")]
            SourceStats::Athena(s) => write!(f, "{s}"),
            #[cfg(feature = "aws")]
            SourceStats::Lake(s) => write!(f, "{s}"),
            #[cfg(feature = "store")]
            SourceStats::Store(s) => write!(f, "{s}"),
            #[allow(unreachable_patterns)]
            _ => Ok(()),
        }
    }
}
