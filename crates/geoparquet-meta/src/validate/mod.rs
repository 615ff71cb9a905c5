//! Validation of GeoParquet metadata: findings with stable codes.
//!
//! Validation results are data, not errors. Three entry points, from the
//! least to the most context:
//!
//! - [`validate_geo_json`]: a bare `geo` JSON value (what the JSON Schema of
//!   its version checks, plus the rules that need no file).
//! - [`validate_geo_text`]: the raw bytes of a `geo` key/value entry (adds
//!   UTF-8 and JSON syntax).
//! - [`validate_file`]: a Parquet file's footer described by [`FileFacts`]
//!   (adds the cross-checks between `geo` and the Parquet schema, logical
//!   types and geospatial statistics).
//!
//! Codes are those of the official corpus manifest
//! (`bad_data/manifest.json`) where one applies, see [`Code`].
//!
//! # Examples
//!
//! ```
//! use geoparquet_meta::validate::{validate_geo_json, Code};
//! use serde_json::json;
//!
//! let report = validate_geo_json(&json!({
//!     "version": "1.1.0", "primary_column": "geom",
//!     "columns": {"geometry": {"encoding": "WKB", "geometry_types": []}}
//! }));
//! assert!(!report.is_valid());
//! assert!(report.has(Code::SchemaValidationError));
//! ```

mod file;
pub(crate) mod projjson;
mod schema;

use std::fmt;

use serde_json::{Value, json};

pub use file::{validate_file, validate_file_metadata};

pub use crate::file::FileFacts;

/// How serious a finding is. Only [`Severity::Error`] makes a file invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Breaks a MUST of the specification.
    Error,
    /// Breaks a SHOULD, or a known quirk that readers tolerate.
    Warning,
    /// Worth knowing.
    Info,
}

impl Severity {
    /// `"error"`, `"warning"` or `"info"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a rule code is: a small `Copy` enum with a stable spelling.
///
/// [`Finding`] and [`Report`] are generic over it, so that every domain (GeoParquet
/// validation, best-practice checks, RaQuet validation) shares one model with its own
/// codes. [`Code`] is GeoParquet's; [`rule_codes!`](crate::rule_codes) declares a new
/// one.
///
/// ```
/// use geoparquet_meta::validate::{Code, RuleCode};
///
/// fn spellings<C: RuleCode>() -> Vec<&'static str> {
///     C::ALL.iter().map(|c| c.as_str()).collect()
/// }
/// assert!(spellings::<Code>().contains(&"bbox_mismatch"));
/// ```
pub trait RuleCode:
    Copy + Eq + Ord + std::hash::Hash + fmt::Debug + fmt::Display + 'static
{
    /// Every code, in declaration order.
    const ALL: &'static [Self];

    /// The code as written in reports, e.g. `"bbox_mismatch"`; never changes once
    /// released.
    fn as_str(self) -> &'static str;

    /// The code spelled `s`, if any.
    ///
    /// ```
    /// use geoparquet_meta::validate::{Code, RuleCode};
    ///
    /// assert_eq!(Code::from_name("zm_mismatch"), Some(Code::ZmMismatch));
    /// assert_eq!(Code::from_name("nothing"), None);
    /// ```
    fn from_name(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

/// Declares a rule-code enum: the variants with their stable spellings, `ALL`,
/// `as_str`, [`Display`](std::fmt::Display) and
/// [`RuleCode`](crate::validate::RuleCode).
///
/// ```
/// geoparquet_meta::rule_codes! {
///     /// The codes of my checks.
///     pub enum MyCode {
///         /// Something is too big.
///         TooBig => "too_big",
///         /// Something is missing.
///         Missing => "missing",
///     }
/// }
/// use geoparquet_meta::validate::{Finding, Report, RuleCode};
///
/// assert_eq!(MyCode::TooBig.to_string(), "too_big");
/// assert_eq!(MyCode::ALL.len(), 2);
/// let report = Report { findings: vec![Finding::warning(MyCode::Missing, None, "no value")] };
/// assert!(report.is_valid() && report.has(MyCode::Missing));
/// ```
#[macro_export]
macro_rules! rule_codes {
    ($(#[$meta:meta])* $vis:vis enum $name:ident {
        $($(#[$doc:meta])* $variant:ident => $s:literal,)*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        $vis enum $name {
            $($(#[$doc])* $variant,)*
        }

        impl $name {
            /// Every code, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The code as written in reports.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $s,)*
                }
            }
        }

        impl $crate::validate::RuleCode for $name {
            const ALL: &'static [Self] = $name::ALL;

            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

rule_codes! {
    /// A stable rule code of GeoParquet validation. The first fourteen are the
    /// official corpus manifest's `expected_failure` vocabulary.
    pub enum Code {
    /// A data bbox lies outside the metadata `bbox`.
    BboxMismatch => "bbox_mismatch",
    /// The `geo` CRS and the Parquet logical type's CRS differ.
    CrsMismatch => "crs_mismatch",
    /// `edges` disagrees with the logical type (GEOMETRY is planar).
    EdgesMismatch => "edges_mismatch",
    /// `epoch` on a CRS that cannot carry one.
    EpochUnsupported => "epoch_unsupported",
    /// A geometry type present in the data is not declared.
    GeometryTypeMismatch => "geometry_type_mismatch",
    /// The `geo` value is not JSON.
    MetadataInvalidJson => "metadata_invalid_json",
    /// The `geo` value is not UTF-8.
    MetadataInvalidUtf8 => "metadata_invalid_utf8",
    /// There is no `geo` key.
    MetadataMissing => "metadata_missing",
    /// Rings are not wound as `orientation` says.
    OrientationMismatch => "orientation_mismatch",
    /// The metadata breaks the JSON Schema of its version (or a structural
    /// rule the schema cannot express, like the primary column's presence).
    SchemaValidationError => "schema_validation_error",
    /// The version is older than a feature the file uses.
    VersionFeatureMismatch => "version_feature_mismatch",
    /// The `version` string is not a known GeoParquet version.
    VersionUnknown => "version_unknown",
    /// A geometry value is not valid ISO WKB.
    WkbParseError => "wkb_parse_error",
    /// Declared and actual coordinate dimensions (Z/M) differ.
    ZmMismatch => "zm_mismatch",
    /// More than one `geo` key/value entry.
    MetadataDuplicateKey => "metadata_duplicate_key",
    /// A column named in `columns` is not a root column of the Parquet schema.
    GeometryColumnMissing => "geometry_column_missing",
    /// A geometry column has the wrong Parquet physical type, nesting or repetition.
    GeometryColumnType => "geometry_column_type",
    /// A native encoding's Parquet layout does not match the GeoArrow separated layout.
    NativeEncodingLayout => "native_encoding_layout",
    /// The `covering` is malformed or its column does not match it.
    CoveringInvalid => "covering_invalid",
    /// A 2.0 geometry column lacks the Parquet GEOMETRY/GEOGRAPHY logical type.
    LogicalTypeMissing => "logical_type_missing",
    /// A Parquet `crs` cannot be resolved (`projjson:KEY` without KEY, unknown form).
    CrsUnresolved => "crs_unresolved",
    /// CRS equivalence cannot be decided from identifiers.
    CrsUndetermined => "crs_undetermined",
    /// A GEOGRAPHY column whose CRS is not geographic.
    GeographyCrsNotGeographic => "geography_crs_not_geographic",
    /// The metadata `bbox` is malformed (south above north, or wrapping in a projected CRS).
    BboxInvalid => "bbox_invalid",
    /// The Parquet geospatial statistics disagree with the metadata.
    StatsMismatch => "stats_mismatch",
    /// Encoding spelled other than the specification (e.g. `"wkb"`).
    EncodingSpelling => "encoding_spelling",
    /// A recommendation of the specification is not followed.
    Recommendation => "recommendation",
    /// A coordinate lies outside the range of its CRS (GEOGRAPHY, or a
    /// geographic CRS: longitude in [-180, 180], latitude in [-90, 90]).
    CoordinatesOutOfRange => "coordinates_out_of_range",
    /// A row's covering box differs from its geometry's box, or is null
    /// where the geometry is not (or the reverse).
    CoveringMismatch => "covering_mismatch",
    /// `geometry_types` lists a type and dimension no row holds (the list is
    /// not as narrow as the data).
    GeometryTypesNotPresent => "geometry_types_not_present",
    }
}

/// One finding of a validation, with a rule code of type `C` (GeoParquet's [`Code`]
/// unless said otherwise).
#[derive(Debug, Clone, PartialEq)]
pub struct Finding<C: RuleCode = Code> {
    /// Stable rule code.
    pub code: C,
    /// How serious it is.
    pub severity: Severity,
    /// A sentence for people.
    pub message: String,
    /// The geometry column concerned, if any.
    pub column: Option<String>,
    /// For data rules: how many rows break the rule (`None` for footer rules).
    pub count: Option<u64>,
    /// For data rules: the first offending rows (0-based, file order).
    pub rows: Vec<u64>,
}

impl<C: RuleCode> Finding<C> {
    /// An error.
    pub fn error(code: C, column: Option<&str>, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Error, column, message)
    }

    /// A warning.
    pub fn warning(code: C, column: Option<&str>, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Warning, column, message)
    }

    /// A finding of any severity.
    pub fn new(
        code: C,
        severity: Severity,
        column: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            code,
            severity,
            message: message.into(),
            column: column.map(str::to_owned),
            count: None,
            rows: Vec::new(),
        }
    }

    /// The same finding, counting `count` offending rows of which `rows` are
    /// the first.
    ///
    /// ```
    /// use geoparquet_meta::validate::{Code, Finding};
    ///
    /// let f = Finding::error(Code::BboxMismatch, Some("geometry"), "outside the bbox")
    ///     .with_rows(3, vec![0, 4, 9]);
    /// assert_eq!(f.to_json()["count"], 3);
    /// assert_eq!(f.to_string(), "error [bbox_mismatch] column \"geometry\": outside the bbox (3 rows; first: 0, 4, 9)");
    /// ```
    pub fn with_rows(mut self, count: u64, rows: Vec<u64>) -> Self {
        self.count = Some(count);
        self.rows = rows;
        self
    }

    /// `{"code", "severity", "message", "column"?, "count"?, "rows"?}`.
    pub fn to_json(&self) -> Value {
        let mut v = json!({"code": self.code.as_str(), "severity": self.severity.as_str(), "message": self.message});
        if let Value::Object(m) = &mut v {
            if let Some(c) = &self.column {
                m.insert("column".into(), Value::String(c.clone()));
            }
            if let Some(n) = self.count {
                m.insert("count".into(), n.into());
                m.insert("rows".into(), self.rows.clone().into());
            }
        }
        v
    }
}

impl<C: RuleCode> fmt::Display for Finding<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.severity.as_str(), self.code)?;
        if let Some(c) = &self.column {
            write!(f, " column \"{c}\"")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(n) = self.count {
            let rows: Vec<String> = self.rows.iter().map(u64::to_string).collect();
            let noun = if n == 1 { "row" } else { "rows" };
            write!(f, " ({n} {noun}; first: {})", rows.join(", "))?;
        }
        Ok(())
    }
}

/// The findings of a validation, with rule codes of type `C` (GeoParquet's [`Code`]
/// unless said otherwise).
#[derive(Debug, Clone, PartialEq)]
pub struct Report<C: RuleCode = Code> {
    /// Findings, in the order rules ran.
    pub findings: Vec<Finding<C>>,
}

impl<C: RuleCode> Default for Report<C> {
    fn default() -> Self {
        Self {
            findings: Vec::new(),
        }
    }
}

impl<C: RuleCode> Report<C> {
    /// True when no finding is an error.
    pub fn is_valid(&self) -> bool {
        !self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// Whether a finding with this code exists, at any severity.
    pub fn has(&self, code: C) -> bool {
        self.findings.iter().any(|f| f.code == code)
    }

    /// Whether an error with this code exists.
    pub fn has_error(&self, code: C) -> bool {
        self.findings
            .iter()
            .any(|f| f.code == code && f.severity == Severity::Error)
    }

    /// Findings of one severity.
    pub fn with_severity(&self, severity: Severity) -> impl Iterator<Item = &Finding<C>> {
        self.findings.iter().filter(move |f| f.severity == severity)
    }

    /// Findings with one code, at any severity.
    ///
    /// ```
    /// use geoparquet_meta::validate::{Code, Finding, Report};
    ///
    /// let mut report = Report::default();
    /// report.push(Finding::warning(Code::Recommendation, None, "use zstd"));
    /// report.push(Finding::error(Code::BboxInvalid, None, "south above north"));
    /// assert_eq!(report.with_code(Code::BboxInvalid).count(), 1);
    /// assert_eq!(report.count(Severity::Warning), 1);
    /// # use geoparquet_meta::validate::Severity;
    /// ```
    pub fn with_code(&self, code: C) -> impl Iterator<Item = &Finding<C>> {
        self.findings.iter().filter(move |f| f.code == code)
    }

    /// How many findings have this severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.with_severity(severity).count()
    }

    /// `{"valid": bool, "findings": [...]}`.
    pub fn to_json(&self) -> Value {
        json!({
            "valid": self.is_valid(),
            "findings": self.findings.iter().map(Finding::to_json).collect::<Vec<_>>(),
        })
    }

    /// Adds a finding at the end.
    pub fn push(&mut self, f: Finding<C>) {
        self.findings.push(f);
    }
}

/// Validates a bare `geo` value: the JSON Schema of its version (which
/// the version string selects), then the rules that need no file: the primary
/// column is a column, features fit the version, `epoch` fits the CRS, the
/// bbox is well formed.
pub fn validate_geo_json(geo: &Value) -> Report {
    let mut report = Report::default();
    schema::check(geo, &mut report);
    schema::semantic(geo, &mut report);
    report
}

/// Only the rules of the version's JSON Schema (what a JSON Schema validator
/// with the published schema would say), without the rules that need more
/// than the schema can express.
pub fn validate_geo_schema(geo: &Value) -> Report {
    let mut report = Report::default();
    schema::check(geo, &mut report);
    report
}

/// Validates the raw bytes of a `geo` key/value entry: UTF-8, JSON, then
/// [`validate_geo_json`].
///
/// ```
/// use geoparquet_meta::validate::{validate_geo_text, Code};
///
/// assert!(validate_geo_text(b"{\"version\": ").has(Code::MetadataInvalidJson));
/// assert!(validate_geo_text(b"{\"v\xff\": 1}").has(Code::MetadataInvalidUtf8));
/// ```
pub fn validate_geo_text(bytes: &[u8]) -> Report {
    match parse_geo_bytes(bytes) {
        Ok(v) => validate_geo_json(&v),
        Err(f) => Report { findings: vec![f] },
    }
}

/// UTF-8 then JSON; a finding when either fails.
pub(crate) fn parse_geo_bytes(bytes: &[u8]) -> Result<Value, Finding> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Finding::error(
            Code::MetadataInvalidUtf8,
            None,
            format!("the geo metadata is not valid UTF-8: {e}"),
        )
    })?;
    serde_json::from_str(text).map_err(|e| {
        Finding::error(
            Code::MetadataInvalidJson,
            None,
            format!("the geo metadata is not valid JSON: {e}"),
        )
    })
}
