//! iamtrim turns what an AWS principal actually did (CloudTrail) into the least-privilege policy
//! it needs, and shows what its current policies grant beyond that.
//!
//! The pipeline, one folder per stage, each importing only the stages before it:
//!
//! 1. [`ingest`]: records from local files ([`ingest::source`]) and from AWS ([`aws`]: LookupEvents,
//!    S3, Athena, CloudTrail Lake, the SQL in [`select::warehouse`]); each record parsed as an
//!    [`ingest::event::Event`]; the window of the run ([`ingest::window`]).
//! 2. [`select`]: which records belong to the run (the role, the window), also as SQL for
//!    Athena and CloudTrail Lake.
//! 3. [`mapping`]: each event to IAM actions and resource ARNs, checked against the
//!    [`mapping::catalog`]; what an error code proves ([`mapping::evidence`]).
//! 4. [`usage`]: the aggregate, with reconciled counts and what could not be read
//!    ([`usage::completeness`]), kept per day in the usage store (`usage::store`).
//! 5. [`synth`]: the policy ([`policy`]: the document, its parser and an IAM evaluator).
//! 6. [`output`]: the formats, the run report, the diff and coverage, and text safe to show.
//!
//! [`app`] holds the use cases every front end shares; [`cli`] is the command line on top, the
//! only part that prints.
#![warn(missing_docs)]

pub mod app;
#[cfg(feature = "aws")]
pub mod aws;
pub mod cli;
pub mod ingest;
pub mod mapping;
pub mod output;
pub mod policy;
pub mod private_files;
pub mod progress;
pub mod select;
pub mod synth;
pub mod usage;

// The module paths of earlier versions, kept for library users.
pub use ingest::{event, source};
pub use mapping::{arn, catalog, evidence, mapper};
pub use output::{coverage, diff, emit, report, text};
pub use policy::{evaluator, model};
pub use select as filter;
pub use select::warehouse;
pub use usage::completeness;
#[cfg(feature = "store")]
pub use usage::store;
