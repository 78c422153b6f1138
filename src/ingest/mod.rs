//! Stage 1: reading CloudTrail records. Finding log files ([`discover`]), reading files and
//! streams ([`source`]), one record parsed ([`event`]), the window of a run ([`window`]), and the
//! aggregating SQL for Athena and CloudTrail Lake ([`warehouse`]).

pub mod discover;
pub mod event;
pub mod source;
pub mod warehouse;
pub mod window;
