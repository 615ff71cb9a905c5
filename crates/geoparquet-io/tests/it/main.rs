//! Integration tests of geoparquet-io (one test binary).
#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod antimeridian;
mod check;
mod corpus;
mod native;
mod read_write;
mod sample;
mod sort;
mod validate_data;
