//! End-to-end and table tests of iamtrim. One test binary (ripgrep's layout): each module is
//! one area.

mod bad_input;
mod corpus;
mod generate;
mod mapping;
mod util;
