//! End-to-end and table tests of iamtrim. One test binary (ripgrep's layout): each module is
//! one area.

#![allow(clippy::print_stdout, clippy::print_stderr)] // tests print what they measured (pacing, lint findings)

mod audit;
mod audit_online;
mod authorized;
mod bad_input;
mod ci_action;
mod completeness;
mod corpus;
mod diff;
mod evaluator;
mod fake_access_analyzer;
mod fake_cloudtrail;
mod fake_iam;
mod files;
mod formats;
mod generate;
mod hostile;
mod lint;
mod lookup;
mod mapping;
mod principals;
mod replay;
mod review;
mod s3;
mod store;
mod templates;
mod util;
mod warehouse;
