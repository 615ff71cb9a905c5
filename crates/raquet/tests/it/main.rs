//! Integration tests of the raquet crate (one binary).

mod read;
mod validate;
mod convert;
mod export;
