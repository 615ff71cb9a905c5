//! GeoParquet specification versions.

use std::fmt;

/// A GeoParquet `version` string.
///
/// Known versions are recognised; any other string is kept verbatim in
/// [`Version::Other`] so that metadata round-trips and a validator can report it.
///
/// # Examples
///
/// ```
/// use geoparquet_meta::Version;
///
/// assert_eq!(Version::parse("1.1.0"), Version::V1_1_0);
/// assert_eq!(Version::parse("2.0-dev").as_str(), "2.0-dev");
/// assert!(Version::parse("2.0.0").is_v2());
/// assert!(!Version::parse("99.0.0").is_known());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Version {
    /// `0.1.0` (the key was `schema_version`).
    V0_1_0,
    /// `0.2.0`.
    V0_2_0,
    /// `0.3.0`.
    V0_3_0,
    /// `0.4.0` (singular `geometry_type`).
    V0_4_0,
    /// `1.0.0-beta.1`.
    V1_0_0Beta1,
    /// `1.0.0-rc.1`.
    V1_0_0Rc1,
    /// `1.0.0`.
    V1_0_0,
    /// `1.1.0` (native encodings, covering).
    V1_1_0,
    /// `2.0-dev`: files written from the specification's main branch.
    V2_0Dev,
    /// `2.0.0-rc.1`.
    V2_0_0Rc1,
    /// `2.0.0` (Parquet GEOMETRY/GEOGRAPHY logical types).
    V2_0_0,
    /// Any other string, kept as found.
    Other(String),
}

/// The version this workspace writes unless told otherwise.
pub const DEFAULT_VERSION: Version = Version::V1_1_0;

impl Version {
    /// Every version this crate knows, oldest first.
    pub const KNOWN: [Version; 11] = [
        Version::V0_1_0,
        Version::V0_2_0,
        Version::V0_3_0,
        Version::V0_4_0,
        Version::V1_0_0Beta1,
        Version::V1_0_0Rc1,
        Version::V1_0_0,
        Version::V1_1_0,
        Version::V2_0Dev,
        Version::V2_0_0Rc1,
        Version::V2_0_0,
    ];

    /// Recognises a version string; never fails.
    pub fn parse(s: &str) -> Self {
        Self::KNOWN
            .into_iter()
            .find(|v| v.as_str() == s)
            .unwrap_or_else(|| Version::Other(s.to_owned()))
    }

    /// The version string.
    pub fn as_str(&self) -> &str {
        match self {
            Version::V0_1_0 => "0.1.0",
            Version::V0_2_0 => "0.2.0",
            Version::V0_3_0 => "0.3.0",
            Version::V0_4_0 => "0.4.0",
            Version::V1_0_0Beta1 => "1.0.0-beta.1",
            Version::V1_0_0Rc1 => "1.0.0-rc.1",
            Version::V1_0_0 => "1.0.0",
            Version::V1_1_0 => "1.1.0",
            Version::V2_0Dev => "2.0-dev",
            Version::V2_0_0Rc1 => "2.0.0-rc.1",
            Version::V2_0_0 => "2.0.0",
            Version::Other(s) => s,
        }
    }

    /// Whether this is a version the crate knows.
    pub fn is_known(&self) -> bool {
        !matches!(self, Version::Other(_))
    }

    /// Pre-1.0 versions (singular `geometry_type`).
    pub fn is_legacy(&self) -> bool {
        matches!(
            self,
            Version::V0_1_0 | Version::V0_2_0 | Version::V0_3_0 | Version::V0_4_0
        )
    }

    /// 1.0.0 and its pre-releases.
    pub fn is_v1_0(&self) -> bool {
        matches!(
            self,
            Version::V1_0_0Beta1 | Version::V1_0_0Rc1 | Version::V1_0_0
        )
    }

    /// Any 1.x version.
    pub fn is_v1(&self) -> bool {
        self.is_v1_0() || *self == Version::V1_1_0
    }

    /// Any 2.0 version (`2.0-dev`, `2.0.0-rc.1`, `2.0.0`).
    pub fn is_v2(&self) -> bool {
        matches!(
            self,
            Version::V2_0Dev | Version::V2_0_0Rc1 | Version::V2_0_0
        )
    }

    /// Whether the version has the 1.1 `covering` key (1.1 and 2.0).
    pub fn supports_covering(&self) -> bool {
        *self == Version::V1_1_0 || self.is_v2()
    }

    /// Whether the version allows the GeoArrow native encodings (1.1 only).
    pub fn supports_native_encodings(&self) -> bool {
        *self == Version::V1_1_0
    }

    /// Whether `" M"` / `" ZM"` geometry types and 8-value bboxes are allowed (2.0).
    pub fn supports_m(&self) -> bool {
        self.is_v2()
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Version {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Version::parse(s))
    }
}
