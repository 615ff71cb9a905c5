//! Integration tests: SlideRule's own files read back into records and
//! rewritten identically, every format, streaming, secrets.
#![allow(clippy::unwrap_used)]

mod corpus;
mod formats;
#[cfg(feature = "aws")]
mod s3s_server;
mod secrets;
mod support;
