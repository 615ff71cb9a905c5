//! The `geoquet` binary end to end, in one test binary: each module covers a part
//! of the CLI, and `support` holds what they share (running the binary, reading its
//! output, common inputs).
#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod support;

mod cli;
mod completions;
mod outputs;
mod quadbin;
mod raquet;
mod rewrites;
mod sliderule;
mod stac;
mod validate;
