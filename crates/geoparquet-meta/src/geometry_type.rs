//! Geometry types with their coordinate dimensions, as GeoParquet strings
//! (`"Point Z"`) and as ISO WKB type codes (`1001`).

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// The seven OGC Simple Features geometry types GeoParquet knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GeometryType {
    /// `Point` (WKB base code 1).
    Point,
    /// `LineString` (WKB base code 2).
    LineString,
    /// `Polygon` (WKB base code 3).
    Polygon,
    /// `MultiPoint` (WKB base code 4).
    MultiPoint,
    /// `MultiLineString` (WKB base code 5).
    MultiLineString,
    /// `MultiPolygon` (WKB base code 6).
    MultiPolygon,
    /// `GeometryCollection` (WKB base code 7).
    GeometryCollection,
}

impl GeometryType {
    /// Every geometry type, in WKB code order.
    pub const ALL: [GeometryType; 7] = [
        GeometryType::Point,
        GeometryType::LineString,
        GeometryType::Polygon,
        GeometryType::MultiPoint,
        GeometryType::MultiLineString,
        GeometryType::MultiPolygon,
        GeometryType::GeometryCollection,
    ];

    /// The name used in GeoParquet metadata, e.g. `"MultiPolygon"`.
    pub fn name(self) -> &'static str {
        match self {
            GeometryType::Point => "Point",
            GeometryType::LineString => "LineString",
            GeometryType::Polygon => "Polygon",
            GeometryType::MultiPoint => "MultiPoint",
            GeometryType::MultiLineString => "MultiLineString",
            GeometryType::MultiPolygon => "MultiPolygon",
            GeometryType::GeometryCollection => "GeometryCollection",
        }
    }

    /// The ISO WKB base code (1 to 7).
    pub fn wkb_code(self) -> u32 {
        match self {
            GeometryType::Point => 1,
            GeometryType::LineString => 2,
            GeometryType::Polygon => 3,
            GeometryType::MultiPoint => 4,
            GeometryType::MultiLineString => 5,
            GeometryType::MultiPolygon => 6,
            GeometryType::GeometryCollection => 7,
        }
    }

    /// The geometry type of a WKB base code (1 to 7), if it is one.
    pub fn from_wkb_code(code: u32) -> Option<Self> {
        Self::ALL
            .get(usize::try_from(code).ok()?.checked_sub(1)?)
            .copied()
    }

    /// The GeoParquet 1.1 native encoding name of this type (`"point"`, ...),
    /// `None` for `GeometryCollection`, which has no native encoding.
    pub fn native_encoding_name(self) -> Option<&'static str> {
        match self {
            GeometryType::Point => Some("point"),
            GeometryType::LineString => Some("linestring"),
            GeometryType::Polygon => Some("polygon"),
            GeometryType::MultiPoint => Some("multipoint"),
            GeometryType::MultiLineString => Some("multilinestring"),
            GeometryType::MultiPolygon => Some("multipolygon"),
            GeometryType::GeometryCollection => None,
        }
    }

    /// The geometry type of a name as GeoParquet and GeoJSON spell it
    /// (`"MultiPolygon"`), if it is one; the spelling must be exact.
    ///
    /// # Examples
    ///
    /// ```
    /// use geoparquet_meta::GeometryType;
    ///
    /// assert_eq!(GeometryType::from_name("MultiPolygon"), Some(GeometryType::MultiPolygon));
    /// assert_eq!(GeometryType::from_name("multipolygon"), None);
    /// assert_eq!(GeometryType::from_name("Point Z"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }
}

impl fmt::Display for GeometryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which coordinates a geometry carries besides X and Y.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Dimension {
    /// X and Y only.
    #[default]
    Xy,
    /// X, Y and Z (`" Z"`, WKB code + 1000).
    Xyz,
    /// X, Y and M (`" M"`, WKB code + 2000; GeoParquet 2.0 only).
    Xym,
    /// X, Y, Z and M (`" ZM"`, WKB code + 3000; GeoParquet 2.0 only).
    Xyzm,
}

impl Dimension {
    /// The suffix in GeoParquet metadata: `""`, `" Z"`, `" M"` or `" ZM"`.
    pub fn suffix(self) -> &'static str {
        match self {
            Dimension::Xy => "",
            Dimension::Xyz => " Z",
            Dimension::Xym => " M",
            Dimension::Xyzm => " ZM",
        }
    }

    /// What ISO WKB adds to the base code: 0, 1000, 2000 or 3000.
    pub fn wkb_offset(self) -> u32 {
        match self {
            Dimension::Xy => 0,
            Dimension::Xyz => 1000,
            Dimension::Xym => 2000,
            Dimension::Xyzm => 3000,
        }
    }

    /// Whether the geometry has a Z coordinate.
    pub fn has_z(self) -> bool {
        matches!(self, Dimension::Xyz | Dimension::Xyzm)
    }

    /// Whether the geometry has an M coordinate.
    pub fn has_m(self) -> bool {
        matches!(self, Dimension::Xym | Dimension::Xyzm)
    }

    /// The number of coordinates per vertex (2, 3 or 4).
    pub fn size(self) -> usize {
        2 + usize::from(self.has_z()) + usize::from(self.has_m())
    }
}

/// A geometry type with its dimension, as written in `geometry_types`
/// (`"Point"`, `"Polygon Z"`, `"LineString ZM"`).
///
/// # Examples
///
/// ```
/// use geoparquet_meta::{Dimension, GeometryType, GeometryTypeAndDimension};
///
/// let t: GeometryTypeAndDimension = "MultiPolygon Z".parse()?;
/// assert_eq!(t.geometry_type, GeometryType::MultiPolygon);
/// assert_eq!(t.dimension, Dimension::Xyz);
/// assert_eq!(t.wkb_code(), 1006);
/// assert_eq!(GeometryTypeAndDimension::from_wkb_code(3002), Some("LineString ZM".parse()?));
/// assert_eq!(t.to_string(), "MultiPolygon Z");
/// # Ok::<(), geoparquet_meta::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GeometryTypeAndDimension {
    /// The geometry type.
    pub geometry_type: GeometryType,
    /// Its coordinate dimension.
    pub dimension: Dimension,
}

impl GeometryTypeAndDimension {
    /// A type with a dimension.
    pub fn new(geometry_type: GeometryType, dimension: Dimension) -> Self {
        Self {
            geometry_type,
            dimension,
        }
    }

    /// The ISO WKB code, e.g. 1003 for `Polygon Z`.
    pub fn wkb_code(self) -> u32 {
        self.geometry_type.wkb_code() + self.dimension.wkb_offset()
    }

    /// Parses an ISO WKB type code (1-7, 1001-1007, 2001-2007, 3001-3007).
    pub fn from_wkb_code(code: u32) -> Option<Self> {
        let dimension = match code / 1000 {
            0 => Dimension::Xy,
            1 => Dimension::Xyz,
            2 => Dimension::Xym,
            3 => Dimension::Xyzm,
            _ => return None,
        };
        Some(Self::new(
            GeometryType::from_wkb_code(code % 1000)?,
            dimension,
        ))
    }
}

impl fmt::Display for GeometryTypeAndDimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.geometry_type, self.dimension.suffix())
    }
}

impl FromStr for GeometryTypeAndDimension {
    type Err = Error;

    /// Parses the exact spelling of the specification: a type name, then
    /// optionally one space and `Z`, `M` or `ZM`.
    fn from_str(s: &str) -> Result<Self> {
        let invalid = || Error::InvalidGeometryType {
            value: s.to_owned(),
        };
        let (name, dimension) = match s.split_once(' ') {
            None => (s, Dimension::Xy),
            Some((name, "Z")) => (name, Dimension::Xyz),
            Some((name, "M")) => (name, Dimension::Xym),
            Some((name, "ZM")) => (name, Dimension::Xyzm),
            Some(_) => return Err(invalid()),
        };
        let geometry_type = GeometryType::from_name(name).ok_or_else(invalid)?;
        Ok(Self::new(geometry_type, dimension))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_strings() {
        for dim in [
            Dimension::Xy,
            Dimension::Xyz,
            Dimension::Xym,
            Dimension::Xyzm,
        ] {
            for t in GeometryType::ALL {
                let td = GeometryTypeAndDimension::new(t, dim);
                let parsed: GeometryTypeAndDimension = td.to_string().parse().unwrap();
                assert_eq!(parsed, td);
                assert_eq!(
                    GeometryTypeAndDimension::from_wkb_code(td.wkb_code()),
                    Some(td)
                );
            }
        }
    }

    #[test]
    fn rejects_bad_spellings() {
        for bad in [
            "PointZ",
            "Point  Z",
            "point",
            "Point z",
            "Point XYZ",
            "",
            "Unknown",
        ] {
            assert!(bad.parse::<GeometryTypeAndDimension>().is_err(), "{bad}");
        }
        for code in [0, 8, 1000, 1008, 4001, 999] {
            assert_eq!(
                GeometryTypeAndDimension::from_wkb_code(code),
                None,
                "{code}"
            );
        }
    }
}
