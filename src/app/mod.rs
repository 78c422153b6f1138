//! The use cases, shared by every front end (the CLI today; an audit, a review or a server next):
//! they take what to read and options, and return what was found. Nothing here prints.
//!
//! - [`collect()`]: the activity of a run, read once from the source a [`SourceSpec`] names
//!   (optionally day by day through the usage store, [`store_days`]).
//! - [`generate()`]: the policy for a role's usage, shaped to the managed-policy size limit, with
//!   its widenings, conditions and self-check.
//! - [`diff()`]: a role's current policies against its usage.
//! - [`replay::replay`]: later calls against a policy learned earlier.
//! - [`split::split`]: one policy per workload of a shared role (`--split-by`).
//! - [`audit::audit`]: every principal of an account, read once, against its current policies;
//!   with the store, each audit kept and its trend ([`audit_history`]).

pub mod audit;
#[cfg(feature = "store")]
pub mod audit_history;
pub mod boundary;
pub mod collect;
pub mod diff;
pub mod generate;
#[cfg(feature = "aws")]
pub mod remote;
pub mod replay;
pub mod review;
pub mod split;
#[cfg(feature = "store")]
pub mod store_days;

pub use collect::{collect, Collected, RemoteOptions, SourceSpec};
pub use diff::{diff, load_policy};
pub use generate::{generate, GenerateOptions, Generated};
