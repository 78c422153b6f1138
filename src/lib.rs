//! iamtrim turns what an AWS IAM role actually did (CloudTrail) into the least-privilege policy
//! it needs.
//!
//! Pipeline: [`source`] reads records, [`event`] parses them, [`filter`] keeps the role and
//! window, [`mapper`] turns events into actions and resources checked against the
//! [`catalog`], [`usage`] aggregates, [`synth`] writes the [`policy`], [`report`] accounts for
//! every record. [`cli`] is the command line on top. With the `aws` feature (default), `aws`
//! reads CloudTrail from the LookupEvents API and from trail files in S3.
#![warn(missing_docs)]

pub mod app;
pub mod arn;
#[cfg(feature = "aws")]
pub mod aws;
pub mod catalog;
pub mod cli;
pub mod completeness;
pub mod coverage;
pub mod diff;
pub mod emit;
pub mod evaluator;
pub mod event;
pub mod evidence;
pub mod filter;
pub mod mapper;
pub mod model;
pub mod policy;
pub mod private_files;
pub mod report;
pub mod source;
#[cfg(feature = "store")]
pub mod store;
pub mod synth;
pub mod text;
pub mod usage;
pub mod warehouse;
