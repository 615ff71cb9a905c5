//! Coordinate transforms between the source CRS, lon/lat and Web Mercator.

use proj4rs::proj::Proj;

use crate::cell::{lonlat_to_mercator, mercator_to_lonlat};
use crate::geotiff::SourceCrs;
use crate::{Error, Result};

enum Kind {
    Mercator,
    Wgs84,
    Proj {
        src: Box<Proj>,
        wgs: Box<Proj>,
        geographic: bool,
    },
}

/// Source pixel ⇄ source CRS ⇄ lon/lat ⇄ Web Mercator.
pub(crate) struct Transformer {
    kind: Kind,
    gt: [f64; 6],
    inv: [f64; 6],
}

impl std::fmt::Debug for Transformer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transformer")
            .field("gt", &self.gt)
            .finish_non_exhaustive()
    }
}

fn invert(gt: [f64; 6]) -> [f64; 6] {
    let det = gt[1] * gt[5] - gt[2] * gt[4];
    let (a, b, d, e) = (gt[5] / det, -gt[2] / det, -gt[4] / det, gt[1] / det);
    [
        -(a * gt[0] + b * gt[3]),
        a,
        b,
        -(d * gt[0] + e * gt[3]),
        d,
        e,
    ]
}

impl Transformer {
    pub(crate) fn new(crs: &SourceCrs, gt: [f64; 6]) -> Result<Self> {
        let kind = match crs {
            SourceCrs::WebMercator => Kind::Mercator,
            SourceCrs::Wgs84 => Kind::Wgs84,
            SourceCrs::Other {
                epsg,
                proj,
                geographic,
            } => {
                let code = epsg.unwrap_or(0);
                let err = |m: String| Error::Crs {
                    epsg: code,
                    message: m,
                };
                let src = match (epsg, proj) {
                    (_, Some(p)) => {
                        Proj::from_proj_string(p).map_err(|e| err(format!("{p}: {e}")))?
                    }
                    (Some(c), None) => {
                        let c16 =
                            u16::try_from(*c).map_err(|_| err("EPSG code out of range".into()))?;
                        Proj::from_epsg_code(c16)
                            .map_err(|e| err(format!("no pure-Rust definition: {e}")))?
                    }
                    (None, None) => return Err(err("no CRS".into())),
                };
                let wgs = Proj::from_proj_string("+proj=longlat +datum=WGS84 +no_defs")
                    .map_err(|e| err(e.to_string()))?;
                Kind::Proj {
                    src: Box::new(src),
                    wgs: Box::new(wgs),
                    geographic: *geographic,
                }
            }
        };
        Ok(Transformer {
            kind,
            gt,
            inv: invert(gt),
        })
    }

    pub(crate) fn pixel_to_source(&self, col: f64, row: f64) -> (f64, f64) {
        let g = &self.gt;
        (
            g[0] + col * g[1] + row * g[2],
            g[3] + col * g[4] + row * g[5],
        )
    }

    pub(crate) fn source_to_pixel(&self, x: f64, y: f64) -> (f64, f64) {
        let g = &self.inv;
        (g[0] + x * g[1] + y * g[2], g[3] + x * g[4] + y * g[5])
    }

    /// Source CRS → lon/lat degrees.
    pub(crate) fn source_to_lonlat(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        match &self.kind {
            Kind::Mercator => Some(mercator_to_lonlat(x, y)),
            Kind::Wgs84 => Some((x, y)),
            Kind::Proj {
                src,
                wgs,
                geographic,
            } => {
                let mut p = if *geographic {
                    (x.to_radians(), y.to_radians(), 0.0)
                } else {
                    (x, y, 0.0)
                };
                proj4rs::transform::transform(src, wgs, &mut p).ok()?;
                let (lon, lat) = (p.0.to_degrees(), p.1.to_degrees());
                (lon.is_finite() && lat.is_finite()).then_some((lon, lat))
            }
        }
    }

    /// Source CRS → Web Mercator metres (latitudes clamped to the Mercator square).
    pub(crate) fn source_to_mercator(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        match &self.kind {
            Kind::Mercator => Some((x, y)),
            _ => {
                let (lon, lat) = self.source_to_lonlat(x, y)?;
                Some(lonlat_to_mercator(lon, lat))
            }
        }
    }

    /// Web Mercator metres → source CRS.
    pub(crate) fn mercator_to_source(&self, mx: f64, my: f64) -> Option<(f64, f64)> {
        match &self.kind {
            Kind::Mercator => Some((mx, my)),
            Kind::Wgs84 => Some(mercator_to_lonlat(mx, my)),
            Kind::Proj {
                src,
                wgs,
                geographic,
            } => {
                let (lon, lat) = mercator_to_lonlat(mx, my);
                let mut p = (lon.to_radians(), lat.to_radians(), 0.0);
                proj4rs::transform::transform(wgs, src, &mut p).ok()?;
                let out = if *geographic {
                    (p.0.to_degrees(), p.1.to_degrees())
                } else {
                    (p.0, p.1)
                };
                (out.0.is_finite() && out.1.is_finite()).then_some(out)
            }
        }
    }

    /// Whether the source is already Web Mercator (affine-only mapping).
    pub(crate) fn is_affine(&self) -> bool {
        matches!(self.kind, Kind::Mercator)
    }

    /// Whether Mercator x maps to source x alone and Mercator y to source y alone
    /// (Mercator or plain lon/lat).
    pub(crate) fn is_separable(&self) -> bool {
        matches!(self.kind, Kind::Mercator | Kind::Wgs84) && self.gt[2] == 0.0 && self.gt[4] == 0.0
    }
}
