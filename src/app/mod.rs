//! The use cases, shared by every front end (the CLI today; an audit, a review or a server next):
//! they take what was read and options, and return what was found. Nothing here prints.
//!
//! - [`generate()`]: the policy for a role's usage, shaped to the managed-policy size limit, with
//!   its widenings, conditions and self-check.
//! - [`store_days`]: a window read day by day, each day from the usage store when it holds it.

pub mod generate;
#[cfg(feature = "store")]
pub mod store_days;

pub use generate::{generate, GenerateOptions, Generated};
