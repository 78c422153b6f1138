//! Stage 1: reading CloudTrail records. Finding log files ([`discover`]), reading files and
//! streams ([`source`]), one record parsed ([`event`]), the window of a run ([`window`]).

pub mod discover;
pub mod document;
pub mod event;
pub mod record;
pub mod source;
pub mod window;
