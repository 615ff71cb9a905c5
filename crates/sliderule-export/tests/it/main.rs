//! Integration tests: SlideRule's own files read back into records and
//! rewritten identically, every format, streaming, secrets.
#![allow(clippy::unwrap_used)]

mod corpus;
mod formats;
mod secrets;
mod support;
