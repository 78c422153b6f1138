//! Stage 1: reading CloudTrail records. Local files and streams ([`source`]), one record parsed
//! ([`event`]), the aggregating SQL for Athena and CloudTrail Lake ([`warehouse`]), and the
//! usage store that keeps what was read per day ([`store`]).

pub mod discover;
pub mod event;
pub mod source;
#[cfg(feature = "store")]
pub mod store;
pub mod warehouse;
