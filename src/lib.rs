//! iamtrim turns what an AWS principal actually did (CloudTrail) into the least-privilege policy
//! it needs, and shows what its current policies grant beyond that.
//!
//! The pipeline, one folder per stage:
//!
//! 1. [`ingest`]: records from local files ([`ingest::source`]), each parsed as an
//!    [`ingest::event::Event`], with the reason a file or record could not be used
//!    ([`ingest::record::RejectReason`]); the window of the run ([`ingest::window`]).
//! 2. [`mapping`]: each event to IAM actions and resource ARNs, checked against the
//!    [`mapping::catalog`]; what an error code proves ([`mapping::evidence`]).
//! 3. [`select`]: which records belong to the run ([`select::admit`]: the principal, the
//!    window), also as SQL for Athena and CloudTrail Lake ([`select::warehouse`]).
//! 4. [`policy`]: the policy document written, the parsed form of any policy, and an IAM
//!    evaluator.
//! 5. [`usage`]: the aggregate, with reconciled [`usage::Counts`] and what could not be read
//!    ([`usage::completeness`]), kept per day in the usage store (`usage::store`).
//! 6. [`aws`]: the remote sources (LookupEvents, S3, Athena, CloudTrail Lake) and IAM; they read
//!    and hand each record or query row to the aggregate, so they come after it.
//! 7. [`synth`]: the least-privilege policy and its self-check.
//! 8. [`output`]: the formats, the run report, the diff and coverage, and text safe to show.
//!
//! Each stage imports only the stages before it (`scripts/module-deps.py` checks).
//! [`app`] holds the use cases every front end shares ([`collect()`], [`generate()`], [`app::diff()`]);
//! [`cli`] is the command line on top, the only part that prints.
//!
//! ```text
//! let spec: SourceSpec = "s3://trail-bucket".parse()?;          // or SourceSpec::Files(paths)
//! let collected = iamtrim::collect(&spec, &selection, &RemoteOptions::default(), &ProgressSink::default())?;
//! let generated = iamtrim::generate(&collected.usage, ActionCatalog::embedded(), &GenerateOptions::default());
//! ```
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

// What a library user needs, at the top.
pub use app::{collect, generate, Collected, GenerateOptions, Generated, RemoteOptions, SourceSpec};
pub use mapping::catalog::ActionCatalog;
pub use policy::PolicyDocument;
pub use progress::ProgressSink;
pub use select::{PrincipalFilter, TimeRange};
pub use usage::{Counts, Selection, Usage};
