//! Stage 6: what people and machines read. The policy formats ([`emit`]), the run report and
//! summary ([`report`]), the diff against current policies ([`diff`]), corpus [`coverage`], and
//! log-derived text written so it shows literally ([`text`]).

pub mod audit;
pub mod audit_html;
pub mod coverage;
pub mod diff;
pub mod emit;
pub mod replay;
pub mod report;
pub mod review;
pub mod source_stats;
pub mod split;
pub mod sr_coverage;
pub mod summary;
pub mod text;
