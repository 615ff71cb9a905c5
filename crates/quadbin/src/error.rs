//! The error type of this crate.

/// Everything that can go wrong with a Quadbin index, tile, point, quadkey or polygon.
///
/// Every variant names the offending value and the rule it breaks.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The 64-bit value is not a valid Quadbin cell.
    #[error("{value} ({value:#018x}) is not a valid Quadbin cell: {rule}")]
    InvalidCell {
        /// The value as given.
        value: u64,
        /// The rule of the CARTO Analytics Toolbox (`QUADBIN_ISVALID`) it breaks.
        rule: &'static str,
    },
    /// A resolution above [`MAX_RESOLUTION`](crate::MAX_RESOLUTION).
    #[error("resolution {resolution} is out of range (0 to 26)")]
    ResolutionOutOfRange {
        /// The resolution as given.
        resolution: u32,
    },
    /// A tile whose x or y is not below `2^z`.
    #[error("tile z {z} x {x} y {y} is off the grid (x and y must be below 2^{z})")]
    TileOutOfRange {
        /// Zoom (resolution).
        z: u8,
        /// Column.
        x: u32,
        /// Row.
        y: u32,
    },
    /// A parent resolution finer than the cell's own.
    #[error(
        "parent resolution {parent_resolution} is finer than the cell's resolution {resolution}"
    )]
    ParentResolution {
        /// The cell's resolution.
        resolution: u8,
        /// The requested parent resolution.
        parent_resolution: u8,
    },
    /// A children resolution coarser than the cell's own (or above 26).
    #[error(
        "children resolution {children_resolution} must be between the cell's resolution {resolution} and 26"
    )]
    ChildrenResolution {
        /// The cell's resolution.
        resolution: u8,
        /// The requested children resolution.
        children_resolution: u8,
    },
    /// A longitude or latitude that is NaN.
    #[error("coordinate ({lon}, {lat}) is not a number")]
    InvalidCoordinate {
        /// Longitude as given.
        lon: f64,
        /// Latitude as given.
        lat: f64,
    },
    /// A NaN coordinate in a batch of points.
    #[error("point {index} ({lon}, {lat}) has a coordinate that is not a number")]
    InvalidPoint {
        /// The point's position in the slices.
        index: usize,
        /// Longitude as given.
        lon: f64,
        /// Latitude as given.
        lat: f64,
    },
    /// Longitude and latitude slices of different lengths.
    #[error("{lons} longitudes but {lats} latitudes")]
    LengthMismatch {
        /// Number of longitudes.
        lons: usize,
        /// Number of latitudes.
        lats: usize,
    },
    /// A quadkey that is too long or has a character other than `0`..`3`.
    #[error("invalid quadkey {quadkey:?}: {rule}")]
    InvalidQuadkey {
        /// The quadkey as given (truncated to 40 characters).
        quadkey: String,
        /// What is wrong with it.
        rule: &'static str,
    },
    /// A cell written as text could not be parsed.
    #[error("cannot read {text:?} as a Quadbin index: {rule}")]
    Parse {
        /// The text as given (truncated to 40 characters).
        text: String,
        /// What is wrong with it.
        rule: &'static str,
    },
    /// A bounding box or polygon that cannot be filled.
    #[error("invalid polygon: {rule}")]
    InvalidPolygon {
        /// What is wrong with it (ring index and vertex where it applies).
        rule: String,
    },
}

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// At most 40 characters of user text for an error message.
pub(crate) fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}
