//! Integration tests of geoquet-geojson (one test binary).
#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod geojson;
