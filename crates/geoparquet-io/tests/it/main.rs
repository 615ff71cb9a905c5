//! Integration tests of geoparquet-io (one test binary).

mod corpus;
mod sample;
