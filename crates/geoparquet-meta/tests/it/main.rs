//! Integration tests of geoparquet-meta against the shared conformance corpus.

mod metadata_cases;
mod schema_agreement;
