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
    /// A WKB value cannot be read.
    #[error("{problem}")]
    InvalidWkb {
        /// What is wrong, and at which byte.
        problem: WkbProblem,
    },
    /// A GeoJSON geometry object cannot be encoded as WKB.
    #[error("{}{problem}", type_path(.path))]
    InvalidGeoJsonGeometry {
        /// The geometry types the problem is inside, outermost first (the
        /// members of a GeometryCollection add theirs); empty when the problem
        /// is with the object itself.
        path: Vec<crate::GeometryType>,
        /// What is wrong.
        problem: GeoJsonProblem,
    },
}

/// What is wrong with a WKB value ([`Error::InvalidWkb`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WkbProblem {
    /// Fewer than the five bytes of a header.
    #[error("{len} bytes is too short for a WKB header")]
    HeaderTooShort {
        /// The length of the value.
        len: usize,
    },
    /// The byte order byte is neither 0 (big endian) nor 1 (little endian).
    #[error("invalid byte order {byte} at byte {offset}")]
    ByteOrder {
        /// The byte found.
        byte: u8,
        /// Where the geometry starts.
        offset: usize,
    },
    /// The type code carries the EWKB (PostGIS) flags, which ISO WKB does not allow.
    #[error(
        "type code {code:#010x} carries EWKB flags (SRID/Z/M high bits); GeoParquet requires ISO WKB"
    )]
    ExtendedWkb {
        /// The type code.
        code: u32,
    },
    /// The type code is not one of the seven geometry types in one of the four dimensions.
    #[error("unknown geometry type code {code} at byte {offset}")]
    UnknownTypeCode {
        /// The type code.
        code: u32,
        /// Where the geometry starts.
        offset: usize,
    },
    /// The value ends inside a geometry.
    #[error("unexpected end of WKB at byte {offset}")]
    Truncated {
        /// Where a value was expected.
        offset: usize,
    },
    /// A count of points, rings or parts needs more bytes than remain.
    #[error("count {count} at byte {offset} exceeds the {remaining} bytes that remain")]
    CountTooLarge {
        /// The count.
        count: u64,
        /// Where the count is.
        offset: usize,
        /// How many bytes remain after it.
        remaining: usize,
    },
    /// Geometry collections nest deeper than the limit.
    #[error("collections nest more than {limit} deep")]
    TooDeep {
        /// The most levels allowed.
        limit: usize,
    },
    /// A multi geometry holds a part of another type.
    #[error("a {outer} holds a {part}")]
    PartType {
        /// The multi geometry.
        outer: crate::GeometryType,
        /// The type of the part.
        part: crate::GeometryType,
    },
    /// Bytes remain after the geometry.
    #[error("the geometry ends at byte {end} but the value has {len} bytes")]
    TrailingBytes {
        /// Where the geometry ends.
        end: usize,
        /// The length of the value.
        len: usize,
    },
    /// The `wkb` crate refused the value.
    #[error("{message}")]
    Decoder {
        /// What the decoder said.
        message: String,
    },
}

/// What is wrong with a GeoJSON geometry object ([`Error::InvalidGeoJsonGeometry`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GeoJsonProblem {
    /// The geometry is not a JSON object.
    #[error("expected a geometry object, found {found}")]
    NotAnObject {
        /// The kind of JSON value found (`"an array"`, ...).
        found: &'static str,
    },
    /// `"type"` is not a string.
    #[error("geometry \"type\" must be a string, found {found}")]
    TypeNotAString {
        /// The value found, as JSON text.
        found: String,
    },
    /// There is no `"type"`.
    #[error("geometry has no \"type\"")]
    NoType,
    /// `"type"` names no GeoJSON geometry type.
    #[error("unknown geometry type \"{name}\"")]
    UnknownType {
        /// The name found.
        name: String,
    },
    /// A member the geometry type needs is absent.
    #[error("a {geometry_type} needs a \"{key}\" member")]
    MissingMember {
        /// The geometry's type.
        geometry_type: crate::GeometryType,
        /// The member: `"coordinates"` or `"geometries"`.
        key: &'static str,
    },
    /// An array was expected.
    #[error("expected {expected}, found {found}")]
    NotAnArray {
        /// What was expected, e.g. `"an array of positions"`.
        expected: &'static str,
        /// The kind of JSON value found.
        found: &'static str,
    },
    /// A coordinate is not a number.
    #[error("non-numeric coordinate {value} in position {position}")]
    NonNumeric {
        /// The coordinate, as JSON text.
        value: String,
        /// The position, as JSON text.
        position: String,
    },
    /// A position has fewer than two numbers.
    #[error("a position needs at least two numbers, found {position}")]
    TooFewNumbers {
        /// The position, as JSON text.
        position: String,
    },
    /// A position has more numbers than the encoding keeps (more than 4).
    #[error("positions must have 2, 3 or 4 coordinates, not {count}")]
    TooManyNumbers {
        /// How many it has.
        count: usize,
    },
    /// Positions of one geometry differ in length, which
    /// [`PositionDimensions::Uniform`](crate::geometry::PositionDimensions::Uniform) refuses.
    #[error("positions of {first} and {other} coordinates in one geometry")]
    MixedDimensions {
        /// The length of the first position.
        first: usize,
        /// The length of a later one.
        other: usize,
    },
    /// More points, rings or parts than a WKB count holds.
    #[error("{count} parts do not fit in WKB")]
    TooManyParts {
        /// How many there are.
        count: usize,
    },
}

fn type_path(path: &[crate::GeometryType]) -> String {
    path.iter().map(|t| format!("{t}: ")).collect()
}

fn column_prefix(column: &Option<String>) -> String {
    match column {
        Some(c) => format!("column \"{c}\": "),
        None => String::new(),
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
