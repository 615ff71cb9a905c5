//! The error type of this crate.

/// Everything that can go wrong when parsing or building GeoParquet metadata.
///
/// Validation findings are not errors: see [`crate::validate`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text is not JSON.
    #[error("the geo metadata is not valid JSON: {source}")]
    Json {
        /// The parser's error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// A required key is absent.
    #[error("{}the geo metadata lacks required key \"{key}\"", column_prefix(.column))]
    MissingKey {
        /// The key, e.g. `"primary_column"`.
        key: &'static str,
        /// The geometry column whose metadata lacks it, `None` at file level.
        column: Option<String>,
    },
    /// A key holds a value of the wrong kind or out of the allowed set.
    #[error("{}invalid \"{key}\": {message}", column_prefix(.column))]
    InvalidValue {
        /// The key, e.g. `"bbox"`.
        key: &'static str,
        /// The geometry column, `None` at file level.
        column: Option<String>,
        /// What is wrong with it.
        message: String,
    },
    /// A geometry type string is not one the specification defines.
    #[error(
        "invalid geometry type \"{value}\" (expected e.g. \"Point\", \"Polygon Z\", \"LineString ZM\")"
    )]
    InvalidGeometryType {
        /// The string as found.
        value: String,
    },
    /// A bounding box has the wrong number of values.
    #[error("a bounding box has 4, 6 or 8 values, not {len}")]
    InvalidBboxLength {
        /// How many values it had.
        len: usize,
    },
    /// A CRS could not be understood or built.
    #[error("invalid CRS: {message}")]
    InvalidCrs {
        /// What is wrong.
        message: String,
    },
}

fn column_prefix(column: &Option<String>) -> String {
    match column {
        Some(c) => format!("column \"{c}\": "),
        None => String::new(),
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
