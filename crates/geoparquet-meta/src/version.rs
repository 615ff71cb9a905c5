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

    /// The known version whose rules apply to this one.
    ///
    /// A known version is its own rule book. An unknown version that is
    /// newer than every known version of its major line (an unreleased or
    /// future minor or patch release such as `1.2.0-dev` or `2.1.0`) follows
    /// the newest known version of that line: minor releases stay compatible,
    /// so the newest rules the crate knows are the best check there is. A
    /// string that spells a known version differently (`1.1`, `v2.0.0`) follows
    /// that version. Anything else (a new major such as `99.0.0`, a string
    /// that is not a version, an unknown release between known ones) has no
    /// rules: `None`.
    ///
    /// ```
    /// use geoparquet_meta::Version;
    ///
    /// assert_eq!(Version::parse("1.1.0").rules(), Some(Version::V1_1_0));
    /// assert_eq!(Version::parse("1.2.0-dev").rules(), Some(Version::V1_1_0));
    /// assert_eq!(Version::parse("2.1.0").rules(), Some(Version::V2_0_0));
    /// assert_eq!(Version::parse("1.1").rules(), Some(Version::V1_1_0));
    /// assert_eq!(Version::parse("99.0.0").rules(), None);
    /// assert_eq!(Version::parse("1.0.5").rules(), None);
    /// ```
    pub fn rules(&self) -> Option<Version> {
        let Version::Other(s) = self else {
            return Some(self.clone());
        };
        let parsed = SemVer::parse(s)?;
        if let Some(same) = Self::KNOWN
            .into_iter()
            .find(|k| SemVer::parse(k.as_str()).as_ref() == Some(&parsed))
        {
            return Some(same);
        }
        let newest = Self::KNOWN
            .into_iter()
            .filter(|k| SemVer::parse(k.as_str()).is_some_and(|v| v.major == parsed.major))
            .max_by(|a, b| {
                let (Some(a), Some(b)) = (SemVer::parse(a.as_str()), SemVer::parse(b.as_str()))
                else {
                    return std::cmp::Ordering::Equal;
                };
                a.cmp(&b)
            })?;
        let newest_parsed = SemVer::parse(newest.as_str())?;
        (parsed > newest_parsed).then_some(newest)
    }

    /// An unknown version newer than every known version of its major line
    /// (see [`Version::rules`]): a future or unreleased minor or patch release.
    ///
    /// ```
    /// use geoparquet_meta::Version;
    ///
    /// assert!(Version::parse("1.2.0-dev").is_future());
    /// assert!(!Version::parse("1.1.0").is_future());
    /// assert!(!Version::parse("1.1").is_future());
    /// assert!(!Version::parse("99.0.0").is_future());
    /// ```
    pub fn is_future(&self) -> bool {
        let Version::Other(s) = self else {
            return false;
        };
        match (self.rules(), SemVer::parse(s)) {
            (Some(rules), Some(v)) => SemVer::parse(rules.as_str()).is_some_and(|r| v > r),
            _ => false,
        }
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

/// A version string read as `MAJOR.MINOR[.PATCH][-PRERELEASE]` (an optional
/// leading `v`), ordered as Semantic Versioning orders them: a pre-release
/// comes before its release, identifiers compare numerically when both are
/// numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SemVer {
    major: u64,
    minor: u64,
    patch: u64,
    pre: Vec<String>,
}

impl SemVer {
    fn parse(s: &str) -> Option<Self> {
        let s = s.strip_prefix('v').unwrap_or(s);
        let (core, pre) = match s.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (s, None),
        };
        let mut parts = core.split('.');
        let num = |p: Option<&str>| -> Option<u64> {
            let p = p?;
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            p.parse().ok()
        };
        let major = num(parts.next())?;
        let minor = num(parts.next())?;
        let patch = match parts.next() {
            Some(p) => num(Some(p))?,
            None => 0,
        };
        if parts.next().is_some() {
            return None;
        }
        let pre = match pre {
            Some(p) if p.is_empty() || p.split('.').any(str::is_empty) => return None,
            Some(p) => p.split('.').map(str::to_owned).collect(),
            None => Vec::new(),
        };
        Some(Self {
            major,
            minor,
            patch,
            pre,
        })
    }
}

impl PartialOrd for SemVer {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SemVer {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        let core =
            (self.major, self.minor, self.patch).cmp(&(other.major, other.minor, other.patch));
        if core != Ordering::Equal {
            return core;
        }
        match (self.pre.is_empty(), other.pre.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Greater,
            (false, true) => return Ordering::Less,
            (false, false) => {}
        }
        for (a, b) in self.pre.iter().zip(&other.pre) {
            let o = match (a.parse::<u64>(), b.parse::<u64>()) {
                (Ok(x), Ok(y)) => x.cmp(&y),
                (Ok(_), Err(_)) => Ordering::Less,
                (Err(_), Ok(_)) => Ordering::Greater,
                (Err(_), Err(_)) => a.cmp(b),
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        self.pre.len().cmp(&other.pre.len())
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
