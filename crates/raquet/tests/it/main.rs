//! Integration tests of the raquet crate (one binary).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::type_complexity)]

mod convert;
mod export;
mod read;
mod real_world;
mod tiff_layouts;
mod validate;
