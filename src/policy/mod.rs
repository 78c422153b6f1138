//! IAM policies: the document iamtrim writes ([`document`], re-exported here), the parsed form of
//! any policy ([`model`]), and an evaluator with IAM's rules ([`evaluator`]).

pub mod access_check;
pub mod authorization;
pub mod containment;
pub mod document;
pub mod evaluator;
pub mod managed;
pub mod model;
pub mod template;

pub use document::*;
