//! Integration tests of geoparquet-meta against the shared conformance corpus.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod metadata_cases;
mod real_world;
mod robustness;
mod schema_agreement;
