//! The record types: ATL06 elevations, ATL08 vegetation segments and ATL03
//! extents with their photons, as the v4.8–v4.20 SlideRule servers define them
//! (`atl06rec.elevation`, `atl08rec.vegetation`, `atl03rec` + `atl03rec.photons`).
//!
//! Field names, types and units are the server's; column orders are the
//! server's hash-table orders (not the declaration order), per output layout.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int32Type, TimestampNanosecondType, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrowPrimitiveType, RecordBatch};
use arrow_schema::DataType;

use crate::columns::{Col, FieldType};
use crate::error::{Error, Result};

/// Which SlideRule record a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RecordKind {
    /// `atl06rec` (endpoint `atl06p`): one row per ATL06-SR segment.
    Atl06,
    /// `atl08rec` (endpoint `atl08p`): one row per PhoREAL extent.
    Atl08,
    /// `atl03rec` (endpoint `atl03sp`): one row per photon, extent fields repeated.
    Atl03,
}

/// Bytes of record data per row group, the p-series budget (`0x4000000`).
pub const ROW_GROUP_BUDGET_BYTES: usize = 0x400_0000;

impl RecordKind {
    /// Parses `atl06`, `atl08`, `atl03` (also with the `p`/`sp` endpoint
    /// suffix or the `rec` record-type suffix).
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "atl06" | "atl06p" | "atl06rec" => Ok(Self::Atl06),
            "atl08" | "atl08p" | "atl08rec" => Ok(Self::Atl08),
            "atl03" | "atl03s" | "atl03sp" | "atl03rec" => Ok(Self::Atl03),
            other => Err(Error::InvalidParameter {
                key: "record".into(),
                message: format!(
                    "unknown record type \"{other}\" (expected atl06, atl08 or atl03)"
                ),
            }),
        }
    }

    /// The record type name, e.g. `atl06rec`.
    #[must_use]
    pub fn rectype(self) -> &'static str {
        match self {
            Self::Atl06 => "atl06rec",
            Self::Atl08 => "atl08rec",
            Self::Atl03 => "atl03rec",
        }
    }

    /// The proxied endpoint name the metadata records (`atl06`, not `atl06p`).
    #[must_use]
    pub fn endpoint(self) -> &'static str {
        match self {
            Self::Atl06 => "atl06",
            Self::Atl08 => "atl08",
            Self::Atl03 => "atl03s",
        }
    }

    /// `sizeof(parent) + sizeof(batch element)` of the C structs: 80, 176, 104 bytes.
    #[must_use]
    pub fn row_size(self) -> usize {
        match self {
            Self::Atl06 => 80,
            Self::Atl08 => 176,
            Self::Atl03 => 56 + 48,
        }
    }

    /// Rows after which a row group is flushed (838,860 / 381,300 / 645,277).
    ///
    /// ```
    /// use sliderule_export::RecordKind;
    /// assert_eq!(RecordKind::Atl03.max_rows_in_group(), 645_277);
    /// ```
    #[must_use]
    pub fn max_rows_in_group(self) -> usize {
        ROW_GROUP_BUDGET_BYTES / self.row_size()
    }

    /// Per-record (parent) fields, in declaration order.
    #[must_use]
    pub fn parent_fields(self) -> &'static [(&'static str, FieldType)] {
        match self {
            Self::Atl03 => ATL03_EXTENT_FIELDS,
            Self::Atl06 | Self::Atl08 => &[],
        }
    }

    /// Per-row (batch element) fields, in declaration order.
    #[must_use]
    pub fn element_fields(self) -> &'static [(&'static str, FieldType)] {
        match self {
            Self::Atl06 => ATL06_FIELDS,
            Self::Atl08 => ATL08_FIELDS,
            Self::Atl03 => ATL03_PHOTON_FIELDS,
        }
    }

    /// The type of a field by name.
    #[must_use]
    pub fn field_type(self, name: &str) -> Option<FieldType> {
        self.parent_fields()
            .iter()
            .chain(self.element_fields())
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
    }

    /// Column names in the server's order: plain Parquet (with `latitude`,
    /// `longitude`) or GeoParquet (without them, `geometry` last).
    #[must_use]
    pub fn column_order(self, geo: bool) -> &'static [&'static str] {
        match (self, geo) {
            (Self::Atl06, false) => ATL06_PLAIN,
            (Self::Atl06, true) => ATL06_GEO,
            (Self::Atl08, false) => ATL08_PLAIN,
            (Self::Atl08, true) => ATL08_GEO,
            (Self::Atl03, false) => ATL03_PLAIN,
            (Self::Atl03, true) => ATL03_GEO,
        }
    }
}

use FieldType::{
    Float32 as F32, Float32List, Float64 as F64, Int8 as I8, Int32 as I32, Time, UInt8 as U8,
    UInt16 as U16, UInt32 as U32, UInt64 as U64,
};

const ATL06_FIELDS: &[(&str, FieldType)] = &[
    ("extent_id", U64),
    ("segment_id", U32),
    ("n_fit_photons", I32),
    ("pflags", U16),
    ("rgt", U16),
    ("cycle", U8),
    ("region", U8),
    ("spot", U8),
    ("gt", U8),
    ("time", Time),
    ("latitude", F64),
    ("longitude", F64),
    ("h_mean", F64),
    ("dh_fit_dx", F32),
    ("x_atc", F32),
    ("y_atc", F32),
    ("w_surface_window_final", F32),
    ("rms_misfit", F32),
    ("h_sigma", F32),
];

const ATL08_FIELDS: &[(&str, FieldType)] = &[
    ("extent_id", U64),
    ("segment_id", U32),
    ("rgt", U16),
    ("cycle", U16),
    ("spot", U8),
    ("gt", U8),
    ("ph_count", U32),
    ("gnd_ph_count", U32),
    ("veg_ph_count", U32),
    ("landcover", U8),
    ("snowcover", U8),
    ("time", Time),
    ("latitude", F64),
    ("longitude", F64),
    ("x_atc", F32),
    ("solar_elevation", F32),
    ("h_te_median", F32),
    ("h_max_canopy", F32),
    ("h_min_canopy", F32),
    ("h_mean_canopy", F32),
    ("h_canopy", F32),
    ("canopy_openness", F32),
    ("canopy_h_metrics", Float32List(CANOPY_METRICS)),
];

const ATL03_EXTENT_FIELDS: &[(&str, FieldType)] = &[
    ("region", U8),
    ("track", U8),
    ("pair", U8),
    ("sc_orient", U8),
    ("rgt", U16),
    ("cycle", U8),
    ("segment_id", U32),
    ("segment_dist", F64),
    ("background_rate", F64),
    ("solar_elevation", F32),
    ("extent_id", U64),
];

const ATL03_PHOTON_FIELDS: &[(&str, FieldType)] = &[
    ("time", Time),
    ("latitude", F64),
    ("longitude", F64),
    ("x_atc", F32),
    ("y_atc", F32),
    ("height", F32),
    ("relief", F32),
    ("landcover", U8),
    ("snowcover", U8),
    ("atl08_class", U8),
    ("atl03_cnf", I8),
    ("quality_ph", I8),
    ("yapc_score", U16),
];

const ATL06_PLAIN: &[&str] = &[
    "dh_fit_dx",
    "n_fit_photons",
    "longitude",
    "extent_id",
    "x_atc",
    "latitude",
    "spot",
    "gt",
    "segment_id",
    "rgt",
    "pflags",
    "cycle",
    "w_surface_window_final",
    "y_atc",
    "h_mean",
    "rms_misfit",
    "h_sigma",
    "region",
    "time",
];
const ATL06_GEO: &[&str] = &[
    "dh_fit_dx",
    "n_fit_photons",
    "extent_id",
    "x_atc",
    "spot",
    "gt",
    "segment_id",
    "rgt",
    "pflags",
    "cycle",
    "w_surface_window_final",
    "y_atc",
    "h_mean",
    "rms_misfit",
    "h_sigma",
    "region",
    "time",
    "geometry",
];
const ATL08_PLAIN: &[&str] = &[
    "h_canopy",
    "ph_count",
    "segment_id",
    "landcover",
    "h_max_canopy",
    "h_te_median",
    "canopy_h_metrics",
    "extent_id",
    "longitude",
    "cycle",
    "time",
    "gt",
    "canopy_openness",
    "x_atc",
    "spot",
    "veg_ph_count",
    "h_min_canopy",
    "latitude",
    "solar_elevation",
    "snowcover",
    "h_mean_canopy",
    "rgt",
    "gnd_ph_count",
];
const ATL08_GEO: &[&str] = &[
    "h_canopy",
    "ph_count",
    "segment_id",
    "landcover",
    "h_max_canopy",
    "h_te_median",
    "canopy_h_metrics",
    "extent_id",
    "cycle",
    "time",
    "gt",
    "canopy_openness",
    "x_atc",
    "spot",
    "veg_ph_count",
    "h_min_canopy",
    "solar_elevation",
    "snowcover",
    "h_mean_canopy",
    "rgt",
    "gnd_ph_count",
    "geometry",
];
const ATL03_PLAIN: &[&str] = &[
    "extent_id",
    "time",
    "longitude",
    "x_atc",
    "landcover",
    "y_atc",
    "atl03_cnf",
    "atl08_class",
    "snowcover",
    "quality_ph",
    "yapc_score",
    "relief",
    "latitude",
    "height",
    "cycle",
    "pair",
    "sc_orient",
    "rgt",
    "track",
    "background_rate",
    "segment_id",
    "segment_dist",
    "solar_elevation",
    "region",
];
const ATL03_GEO: &[&str] = &[
    "extent_id",
    "time",
    "x_atc",
    "landcover",
    "y_atc",
    "atl03_cnf",
    "atl08_class",
    "snowcover",
    "quality_ph",
    "yapc_score",
    "relief",
    "height",
    "cycle",
    "pair",
    "sc_orient",
    "rgt",
    "track",
    "background_rate",
    "segment_id",
    "segment_dist",
    "solar_elevation",
    "region",
    "geometry",
];

/// Number of `canopy_h_metrics` values per ATL08 row.
pub const CANOPY_METRICS: usize = 20;

/// Buffered rows of one record kind: parent columns (one value per record)
/// and element columns (one value per row). Filled by [`Record::append_to`].
#[derive(Debug)]
pub struct ColumnBuffer {
    pub(crate) kind: RecordKind,
    pub(crate) parent: Vec<Col>,
    pub(crate) elements: Vec<Col>,
    /// Rows per parent record (only for kinds with parent fields).
    pub(crate) counts: Vec<u32>,
    pub(crate) rows: usize,
}

impl ColumnBuffer {
    /// An empty buffer for `kind`.
    #[must_use]
    pub fn new(kind: RecordKind) -> Self {
        let cap = kind.max_rows_in_group().min(1 << 16);
        Self {
            kind,
            parent: kind
                .parent_fields()
                .iter()
                .map(|(_, t)| Col::new(*t, 1024))
                .collect(),
            elements: kind
                .element_fields()
                .iter()
                .map(|(_, t)| Col::new(*t, cap))
                .collect(),
            counts: Vec::new(),
            rows: 0,
        }
    }

    /// Rows buffered.
    #[must_use]
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Buffered record data in bytes (values only).
    #[must_use]
    pub fn value_bytes(&self) -> usize {
        let per_row: usize = self
            .kind
            .element_fields()
            .iter()
            .map(|(_, t)| t.width())
            .sum();
        let per_parent: usize = self
            .kind
            .parent_fields()
            .iter()
            .map(|(_, t)| t.width())
            .sum();
        per_row * self.rows + per_parent * self.counts.len()
    }
}

/// A SlideRule record that can be buffered into columns: one server record
/// (a batch of up to 256 elevations, a batch of vegetation segments, an ATL03
/// extent with its photons), which is never split across row groups.
pub trait Record {
    /// The record type.
    const KIND: RecordKind;
    /// Rows this record adds (0 is allowed and adds nothing).
    fn row_count(&self) -> usize;
    /// Appends this record's rows to `buf` (whose kind is `Self::KIND`).
    fn append_to(&self, buf: &mut ColumnBuffer);
}

/// One ATL06-SR segment (`atl06rec.elevation`, 80 bytes on the server).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Atl06Elevation {
    /// Extent id (bit 1 set for elevation products).
    pub extent_id: u64,
    /// ATL03 segment id of the first segment.
    pub segment_id: u32,
    /// Photons in the final fit.
    pub n_fit_photons: i32,
    /// Processing flags (0x1 spread too short, 0x2 too few photons, …).
    pub pflags: u16,
    /// Reference ground track.
    pub rgt: u16,
    /// Cycle.
    pub cycle: u8,
    /// Granule region.
    pub region: u8,
    /// Laser spot 1–6 (0 unknown).
    pub spot: u8,
    /// Ground track: 10 gt1l, 20 gt1r, …, 60 gt3r.
    pub gt: u8,
    /// Unix-epoch nanoseconds (UTC); see [`crate::time::delta_time_to_unix_ns`].
    pub time: i64,
    /// Degrees north (WGS 84).
    pub latitude: f64,
    /// Degrees east (WGS 84).
    pub longitude: f64,
    /// Elevation, metres above the WGS 84 ellipsoid.
    pub h_mean: f64,
    /// Along-track slope (m/m).
    pub dh_fit_dx: f32,
    /// Along-track distance from the equator (m).
    pub x_atc: f32,
    /// Across-track distance (m).
    pub y_atc: f32,
    /// Final surface window width (m).
    pub w_surface_window_final: f32,
    /// RMS of the fit residuals (m).
    pub rms_misfit: f32,
    /// Fit error estimate (m).
    pub h_sigma: f32,
}

/// One `atl06rec`: a batch of elevations.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Atl06Record {
    /// The segments, in order.
    pub elevations: Vec<Atl06Elevation>,
}

/// One PhoREAL extent (`atl08rec.vegetation`, 176 bytes on the server).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Atl08Vegetation {
    /// Extent id (bit 1 set).
    pub extent_id: u64,
    /// ATL03 segment id.
    pub segment_id: u32,
    /// Reference ground track.
    pub rgt: u16,
    /// Cycle (still 16 bits in this record).
    pub cycle: u16,
    /// Laser spot 1–6.
    pub spot: u8,
    /// Ground track 10…60.
    pub gt: u8,
    /// Photons used by PhoREAL.
    pub ph_count: u32,
    /// Ground photons.
    pub gnd_ph_count: u32,
    /// Canopy and top-of-canopy photons.
    pub veg_ph_count: u32,
    /// ATL08 `segment_landcover` (0xFF invalid).
    pub landcover: u8,
    /// ATL08 `segment_snowcover` (0xFF invalid).
    pub snowcover: u8,
    /// Unix-epoch nanoseconds (UTC).
    pub time: i64,
    /// Degrees north.
    pub latitude: f64,
    /// Degrees east.
    pub longitude: f64,
    /// Along-track distance from the equator (m).
    pub x_atc: f32,
    /// Solar elevation (degrees).
    pub solar_elevation: f32,
    /// Median terrain height of ground photons (m).
    pub h_te_median: f32,
    /// Maximum canopy relief (m).
    pub h_max_canopy: f32,
    /// Minimum canopy relief (m).
    pub h_min_canopy: f32,
    /// Mean canopy relief (m).
    pub h_mean_canopy: f32,
    /// 98th-percentile canopy relief (m).
    pub h_canopy: f32,
    /// Standard deviation of canopy relief (m).
    pub canopy_openness: f32,
    /// Relief at the percentiles 5, 10, …, 95 and a 20th value (m).
    pub canopy_h_metrics: [f32; CANOPY_METRICS],
}

/// One `atl08rec`: a batch of vegetation segments.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Atl08Record {
    /// The segments, in order.
    pub vegetation: Vec<Atl08Vegetation>,
}

/// One photon (`atl03rec.photons`, 48 bytes on the server).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Atl03Photon {
    /// Unix-epoch nanoseconds (UTC), from ATL03 `delta_time`.
    pub time: i64,
    /// Degrees north (`lat_ph`).
    pub latitude: f64,
    /// Degrees east (`lon_ph`).
    pub longitude: f64,
    /// Along-track distance relative to the extent centre (m).
    pub x_atc: f32,
    /// Across-track distance (m).
    pub y_atc: f32,
    /// Height above the ellipsoid (m, `h_ph`).
    pub height: f32,
    /// ATL08 relief (m); 0.0 without PhoREAL.
    pub relief: f32,
    /// ATL08 landcover; 0xFF without PhoREAL.
    pub landcover: u8,
    /// ATL08 snowcover; 0xFF without PhoREAL.
    pub snowcover: u8,
    /// 0 noise, 1 ground, 2 canopy, 3 top of canopy, 4 unclassified.
    pub atl08_class: u8,
    /// Signal confidence −2…4.
    pub atl03_cnf: i8,
    /// 0 nominal, 1 possible afterpulse, 2 possible impulse response, 3 possible TEP.
    pub quality_ph: i8,
    /// YAPC weight (16 bits from v4.20).
    pub yapc_score: u16,
}

/// One `atl03rec`: an extent (one pair track, one side) and its photons.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Atl03Extent {
    /// Granule region.
    pub region: u8,
    /// Reference pair track 1–3.
    pub track: u8,
    /// 0 left, 1 right.
    pub pair: u8,
    /// 0 backward, 1 forward, 2 transition.
    pub sc_orient: u8,
    /// Reference ground track.
    pub rgt: u16,
    /// Cycle.
    pub cycle: u8,
    /// ATL03 segment id of the extent.
    pub segment_id: u32,
    /// Along-track distance from the equator to the extent centre (m).
    pub segment_dist: f64,
    /// Background rate (PE/s).
    pub background_rate: f64,
    /// Solar elevation (degrees).
    pub solar_elevation: f32,
    /// Extent id (bit 1 clear for photon extents).
    pub extent_id: u64,
    /// The photons.
    pub photons: Vec<Atl03Photon>,
}

impl Record for Atl06Record {
    const KIND: RecordKind = RecordKind::Atl06;
    fn row_count(&self) -> usize {
        self.elevations.len()
    }
    fn append_to(&self, buf: &mut ColumnBuffer) {
        for e in &self.elevations {
            e.append_to(buf);
        }
    }
}

impl Record for Atl06Elevation {
    const KIND: RecordKind = RecordKind::Atl06;
    fn row_count(&self) -> usize {
        1
    }
    fn append_to(&self, buf: &mut ColumnBuffer) {
        let [
            c0,
            c1,
            c2,
            c3,
            c4,
            c5,
            c6,
            c7,
            c8,
            c9,
            c10,
            c11,
            c12,
            c13,
            c14,
            c15,
            c16,
            c17,
            c18,
        ] = buf.elements.as_mut_slice()
        else {
            return;
        };
        c0.push_u64(self.extent_id);
        c1.push_u32(self.segment_id);
        c2.push_i32(self.n_fit_photons);
        c3.push_u16(self.pflags);
        c4.push_u16(self.rgt);
        c5.push_u8(self.cycle);
        c6.push_u8(self.region);
        c7.push_u8(self.spot);
        c8.push_u8(self.gt);
        c9.push_time(self.time);
        c10.push_f64(self.latitude);
        c11.push_f64(self.longitude);
        c12.push_f64(self.h_mean);
        c13.push_f32(self.dh_fit_dx);
        c14.push_f32(self.x_atc);
        c15.push_f32(self.y_atc);
        c16.push_f32(self.w_surface_window_final);
        c17.push_f32(self.rms_misfit);
        c18.push_f32(self.h_sigma);
        buf.rows += 1;
    }
}

impl Record for Atl08Record {
    const KIND: RecordKind = RecordKind::Atl08;
    fn row_count(&self) -> usize {
        self.vegetation.len()
    }
    fn append_to(&self, buf: &mut ColumnBuffer) {
        for v in &self.vegetation {
            v.append_to(buf);
        }
    }
}

impl Record for Atl08Vegetation {
    const KIND: RecordKind = RecordKind::Atl08;
    fn row_count(&self) -> usize {
        1
    }
    fn append_to(&self, buf: &mut ColumnBuffer) {
        let [
            c0,
            c1,
            c2,
            c3,
            c4,
            c5,
            c6,
            c7,
            c8,
            c9,
            c10,
            c11,
            c12,
            c13,
            c14,
            c15,
            c16,
            c17,
            c18,
            c19,
            c20,
            c21,
            c22,
        ] = buf.elements.as_mut_slice()
        else {
            return;
        };
        c0.push_u64(self.extent_id);
        c1.push_u32(self.segment_id);
        c2.push_u16(self.rgt);
        c3.push_u16(self.cycle);
        c4.push_u8(self.spot);
        c5.push_u8(self.gt);
        c6.push_u32(self.ph_count);
        c7.push_u32(self.gnd_ph_count);
        c8.push_u32(self.veg_ph_count);
        c9.push_u8(self.landcover);
        c10.push_u8(self.snowcover);
        c11.push_time(self.time);
        c12.push_f64(self.latitude);
        c13.push_f64(self.longitude);
        c14.push_f32(self.x_atc);
        c15.push_f32(self.solar_elevation);
        c16.push_f32(self.h_te_median);
        c17.push_f32(self.h_max_canopy);
        c18.push_f32(self.h_min_canopy);
        c19.push_f32(self.h_mean_canopy);
        c20.push_f32(self.h_canopy);
        c21.push_f32(self.canopy_openness);
        c22.push_f32_list(&self.canopy_h_metrics);
        buf.rows += 1;
    }
}

impl Record for Atl03Extent {
    const KIND: RecordKind = RecordKind::Atl03;
    fn row_count(&self) -> usize {
        self.photons.len()
    }
    fn append_to(&self, buf: &mut ColumnBuffer) {
        if self.photons.is_empty() {
            return;
        }
        let [p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10] = buf.parent.as_mut_slice() else {
            return;
        };
        p0.push_u8(self.region);
        p1.push_u8(self.track);
        p2.push_u8(self.pair);
        p3.push_u8(self.sc_orient);
        p4.push_u16(self.rgt);
        p5.push_u8(self.cycle);
        p6.push_u32(self.segment_id);
        p7.push_f64(self.segment_dist);
        p8.push_f64(self.background_rate);
        p9.push_f32(self.solar_elevation);
        p10.push_u64(self.extent_id);
        let [c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12] = buf.elements.as_mut_slice()
        else {
            return;
        };
        for p in &self.photons {
            c0.push_time(p.time);
            c1.push_f64(p.latitude);
            c2.push_f64(p.longitude);
            c3.push_f32(p.x_atc);
            c4.push_f32(p.y_atc);
            c5.push_f32(p.height);
            c6.push_f32(p.relief);
            c7.push_u8(p.landcover);
            c8.push_u8(p.snowcover);
            c9.push_u8(p.atl08_class);
            c10.push_i8(p.atl03_cnf);
            c11.push_i8(p.quality_ph);
            c12.push_u16(p.yapc_score);
        }
        buf.counts
            .push(u32::try_from(self.photons.len()).unwrap_or(u32::MAX));
        buf.rows += self.photons.len();
    }
}

// ---------------------------------------------------------------------------
// Reading back: record batches (from SlideRule's files or ours) into records.

struct Columns<'a> {
    batch: &'a RecordBatch,
    source: &'a str,
    points: Option<(Vec<f64>, Vec<f64>)>,
}

impl<'a> Columns<'a> {
    fn new(batch: &'a RecordBatch, source: &'a str) -> Result<Self> {
        let has_latlon = batch.schema().column_with_name("latitude").is_some();
        let points = if has_latlon {
            None
        } else {
            Some(points_from_geometry(batch, source)?)
        };
        Ok(Self {
            batch,
            source,
            points,
        })
    }

    fn err(&self, column: &str, message: impl Into<String>) -> Error {
        Error::InvalidColumn {
            file: self.source.to_owned(),
            column: column.to_owned(),
            message: message.into(),
        }
    }

    fn prim<T: ArrowPrimitiveType>(&self, name: &str) -> Result<&'a [T::Native]> {
        let col = self
            .batch
            .column_by_name(name)
            .ok_or_else(|| self.err(name, "missing"))?;
        if col.null_count() > 0 {
            return Err(self.err(name, "has nulls"));
        }
        let arr = col.as_primitive_opt::<T>().ok_or_else(|| {
            self.err(
                name,
                format!("has type {}, expected {}", col.data_type(), T::DATA_TYPE),
            )
        })?;
        Ok(arr.values().as_ref())
    }

    fn time(&self) -> Result<&'a [i64]> {
        let col = self
            .batch
            .column_by_name("time")
            .ok_or_else(|| self.err("time", "missing"))?;
        match col.data_type() {
            DataType::Timestamp(arrow_schema::TimeUnit::Nanosecond, _) => Ok(col
                .as_primitive::<TimestampNanosecondType>()
                .values()
                .as_ref()),
            other => Err(self.err("time", format!("has type {other}, expected timestamp[ns]"))),
        }
    }

    fn lat(&self) -> Result<&[f64]> {
        match &self.points {
            Some((_, lat)) => Ok(lat),
            None => self.prim::<Float64Type>("latitude"),
        }
    }

    fn lon(&self) -> Result<&[f64]> {
        match &self.points {
            Some((lon, _)) => Ok(lon),
            None => self.prim::<Float64Type>("longitude"),
        }
    }

    fn f32_lists(&self, name: &str, width: usize) -> Result<Vec<[f32; CANOPY_METRICS]>> {
        let col = self
            .batch
            .column_by_name(name)
            .ok_or_else(|| self.err(name, "missing"))?;
        let list = col.as_list_opt::<i32>().ok_or_else(|| {
            self.err(
                name,
                format!("has type {}, expected list<float32>", col.data_type()),
            )
        })?;
        let mut out = Vec::with_capacity(list.len());
        for i in 0..list.len() {
            let v = list.value(i);
            let vals = v
                .as_primitive_opt::<Float32Type>()
                .ok_or_else(|| self.err(name, "list values are not float32"))?;
            let mut a = [0f32; CANOPY_METRICS];
            for (slot, x) in a.iter_mut().zip(vals.values().iter()).take(width) {
                *slot = *x;
            }
            out.push(a);
        }
        Ok(out)
    }
}

fn points_from_geometry(batch: &RecordBatch, source: &str) -> Result<(Vec<f64>, Vec<f64>)> {
    let err = |m: String| Error::InvalidColumn {
        file: source.to_owned(),
        column: "geometry".into(),
        message: m,
    };
    let col = batch
        .column_by_name("geometry")
        .ok_or_else(|| err("missing (and no latitude/longitude columns)".into()))?;
    let bin = col
        .as_binary_opt::<i32>()
        .ok_or_else(|| err(format!("has type {}, expected binary WKB", col.data_type())))?;
    let mut lon = Vec::with_capacity(bin.len());
    let mut lat = Vec::with_capacity(bin.len());
    for i in 0..bin.len() {
        let b = bin.value(i);
        let (x, y) =
            parse_point(b).ok_or_else(|| err(format!("row {i}: not a 21-byte WKB point")))?;
        lon.push(x);
        lat.push(y);
    }
    Ok((lon, lat))
}

/// x and y of a 2D WKB point (either byte order).
fn parse_point(b: &[u8]) -> Option<(f64, f64)> {
    if b.len() != 21 {
        return None;
    }
    let le = match b.first()? {
        1 => true,
        0 => false,
        _ => return None,
    };
    let word = |r: &[u8]| -> Option<[u8; 8]> { r.try_into().ok() };
    let t: [u8; 4] = b.get(1..5)?.try_into().ok()?;
    let t = if le {
        u32::from_le_bytes(t)
    } else {
        u32::from_be_bytes(t)
    };
    if t != 1 {
        return None;
    }
    let x = word(b.get(5..13)?)?;
    let y = word(b.get(13..21)?)?;
    Some(if le {
        (f64::from_le_bytes(x), f64::from_le_bytes(y))
    } else {
        (f64::from_be_bytes(x), f64::from_be_bytes(y))
    })
}

impl Atl06Elevation {
    /// Reads the rows of a batch written by SlideRule (or by this crate):
    /// plain (`latitude`/`longitude`) or GeoParquet (`geometry`). `source`
    /// names the input in errors.
    pub fn from_batch(batch: &RecordBatch, source: &str) -> Result<Vec<Self>> {
        let c = Columns::new(batch, source)?;
        let (extent_id, segment_id, n_fit_photons) = (
            c.prim::<UInt64Type>("extent_id")?,
            c.prim::<UInt32Type>("segment_id")?,
            c.prim::<Int32Type>("n_fit_photons")?,
        );
        let (pflags, rgt) = (
            c.prim::<UInt16Type>("pflags")?,
            c.prim::<UInt16Type>("rgt")?,
        );
        let (cycle, region, spot, gt) = (
            c.prim::<UInt8Type>("cycle")?,
            c.prim::<UInt8Type>("region")?,
            c.prim::<UInt8Type>("spot")?,
            c.prim::<UInt8Type>("gt")?,
        );
        let (time, lat, lon, h_mean) = (
            c.time()?,
            c.lat()?,
            c.lon()?,
            c.prim::<Float64Type>("h_mean")?,
        );
        let f = |n| c.prim::<Float32Type>(n);
        let (dh, xa, ya, w, rms, hs) = (
            f("dh_fit_dx")?,
            f("x_atc")?,
            f("y_atc")?,
            f("w_surface_window_final")?,
            f("rms_misfit")?,
            f("h_sigma")?,
        );
        Ok((0..batch.num_rows())
            .map(|i| Self {
                extent_id: extent_id[i],
                segment_id: segment_id[i],
                n_fit_photons: n_fit_photons[i],
                pflags: pflags[i],
                rgt: rgt[i],
                cycle: cycle[i],
                region: region[i],
                spot: spot[i],
                gt: gt[i],
                time: time[i],
                latitude: lat[i],
                longitude: lon[i],
                h_mean: h_mean[i],
                dh_fit_dx: dh[i],
                x_atc: xa[i],
                y_atc: ya[i],
                w_surface_window_final: w[i],
                rms_misfit: rms[i],
                h_sigma: hs[i],
            })
            .collect())
    }
}

impl Atl08Vegetation {
    /// Reads the rows of a batch (plain or GeoParquet layout).
    pub fn from_batch(batch: &RecordBatch, source: &str) -> Result<Vec<Self>> {
        let c = Columns::new(batch, source)?;
        let u8s = |n| c.prim::<UInt8Type>(n);
        let u32s = |n| c.prim::<UInt32Type>(n);
        let f = |n| c.prim::<Float32Type>(n);
        let (extent_id, segment_id) = (c.prim::<UInt64Type>("extent_id")?, u32s("segment_id")?);
        let (rgt, cycle) = (c.prim::<UInt16Type>("rgt")?, c.prim::<UInt16Type>("cycle")?);
        let (spot, gt, landcover, snowcover) = (
            u8s("spot")?,
            u8s("gt")?,
            u8s("landcover")?,
            u8s("snowcover")?,
        );
        let (ph, gnd, veg) = (
            u32s("ph_count")?,
            u32s("gnd_ph_count")?,
            u32s("veg_ph_count")?,
        );
        let (time, lat, lon) = (c.time()?, c.lat()?, c.lon()?);
        let (xa, se, hte, hmax, hmin, hmean, hc, co) = (
            f("x_atc")?,
            f("solar_elevation")?,
            f("h_te_median")?,
            f("h_max_canopy")?,
            f("h_min_canopy")?,
            f("h_mean_canopy")?,
            f("h_canopy")?,
            f("canopy_openness")?,
        );
        let metrics = c.f32_lists("canopy_h_metrics", CANOPY_METRICS)?;
        Ok((0..batch.num_rows())
            .map(|i| Self {
                extent_id: extent_id[i],
                segment_id: segment_id[i],
                rgt: rgt[i],
                cycle: cycle[i],
                spot: spot[i],
                gt: gt[i],
                ph_count: ph[i],
                gnd_ph_count: gnd[i],
                veg_ph_count: veg[i],
                landcover: landcover[i],
                snowcover: snowcover[i],
                time: time[i],
                latitude: lat[i],
                longitude: lon[i],
                x_atc: xa[i],
                solar_elevation: se[i],
                h_te_median: hte[i],
                h_max_canopy: hmax[i],
                h_min_canopy: hmin[i],
                h_mean_canopy: hmean[i],
                h_canopy: hc[i],
                canopy_openness: co[i],
                canopy_h_metrics: metrics.get(i).copied().unwrap_or_default(),
            })
            .collect())
    }
}

impl Atl03Extent {
    /// Reads the rows of a flattened batch (one row per photon) back into
    /// extents: consecutive rows with the same `extent_id` form one extent.
    pub fn from_batch(batch: &RecordBatch, source: &str) -> Result<Vec<Self>> {
        let c = Columns::new(batch, source)?;
        let u8s = |n| c.prim::<UInt8Type>(n);
        let f = |n| c.prim::<Float32Type>(n);
        let (region, track, pair, sc, cycle) = (
            u8s("region")?,
            u8s("track")?,
            u8s("pair")?,
            u8s("sc_orient")?,
            u8s("cycle")?,
        );
        let rgt = c.prim::<UInt16Type>("rgt")?;
        let seg = c.prim::<UInt32Type>("segment_id")?;
        let (sd, bg) = (
            c.prim::<Float64Type>("segment_dist")?,
            c.prim::<Float64Type>("background_rate")?,
        );
        let se = f("solar_elevation")?;
        let eid = c.prim::<UInt64Type>("extent_id")?;
        let (time, lat, lon) = (c.time()?, c.lat()?, c.lon()?);
        let (xa, ya, h, rel) = (f("x_atc")?, f("y_atc")?, f("height")?, f("relief")?);
        let (lc, sn, cls) = (u8s("landcover")?, u8s("snowcover")?, u8s("atl08_class")?);
        let (cnf, q) = (
            c.prim::<Int8Type>("atl03_cnf")?,
            c.prim::<Int8Type>("quality_ph")?,
        );
        let yapc = c.prim::<UInt16Type>("yapc_score")?;
        let mut out: Vec<Self> = Vec::new();
        for i in 0..batch.num_rows() {
            let photon = Atl03Photon {
                time: time[i],
                latitude: lat[i],
                longitude: lon[i],
                x_atc: xa[i],
                y_atc: ya[i],
                height: h[i],
                relief: rel[i],
                landcover: lc[i],
                snowcover: sn[i],
                atl08_class: cls[i],
                atl03_cnf: cnf[i],
                quality_ph: q[i],
                yapc_score: yapc[i],
            };
            match out.last_mut() {
                Some(e) if e.extent_id == eid[i] => e.photons.push(photon),
                _ => out.push(Self {
                    region: region[i],
                    track: track[i],
                    pair: pair[i],
                    sc_orient: sc[i],
                    rgt: rgt[i],
                    cycle: cycle[i],
                    segment_id: seg[i],
                    segment_dist: sd[i],
                    background_rate: bg[i],
                    solar_elevation: se[i],
                    extent_id: eid[i],
                    photons: vec![photon],
                }),
            }
        }
        Ok(out)
    }
}

/// Spot number 1–6 from spacecraft orientation, track and pair
/// (`Icesat2Fields::getSpotNumber`); 0 in transition or out of range.
///
/// ```
/// use sliderule_export::records::spot_number;
/// assert_eq!(spot_number(0, 1, 0), 1);
/// assert_eq!(spot_number(1, 1, 0), 6);
/// ```
#[must_use]
pub fn spot_number(sc_orient: u8, track: u8, pair: u8) -> u8 {
    if !(1..=3).contains(&track) || pair > 1 {
        return 0;
    }
    let backward = (track - 1) * 2 + pair + 1;
    match sc_orient {
        0 => backward,
        1 => 7 - backward,
        _ => 0,
    }
}

/// Ground track 10, 20, …, 60 from track and pair (`getGroundTrack`).
///
/// ```
/// use sliderule_export::records::ground_track;
/// assert_eq!(ground_track(2, 1), 40);
/// ```
#[must_use]
pub fn ground_track(track: u8, pair: u8) -> u8 {
    if !(1..=3).contains(&track) || pair > 1 {
        return 0;
    }
    ((track - 1) * 2 + pair + 1) * 10
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_hold_every_field_once() {
        for kind in [RecordKind::Atl06, RecordKind::Atl08, RecordKind::Atl03] {
            let mut all: Vec<&str> = kind
                .parent_fields()
                .iter()
                .chain(kind.element_fields())
                .map(|(n, _)| *n)
                .collect();
            all.sort_unstable();
            let mut plain = kind.column_order(false).to_vec();
            plain.sort_unstable();
            assert_eq!(all, plain, "{kind:?}");
            let mut geo: Vec<&str> = kind.column_order(true).to_vec();
            geo.retain(|n| *n != "geometry");
            geo.extend(["latitude", "longitude"]);
            geo.sort_unstable();
            assert_eq!(all, geo, "{kind:?}");
        }
        assert_eq!(RecordKind::Atl06.column_order(false).len(), 19);
        assert_eq!(RecordKind::Atl08.column_order(true).len(), 22);
        assert_eq!(RecordKind::Atl03.column_order(true).len(), 23);
    }

    #[test]
    fn row_budgets_match_the_server() {
        assert_eq!(RecordKind::Atl06.max_rows_in_group(), 838_860);
        assert_eq!(RecordKind::Atl08.max_rows_in_group(), 381_300);
        assert_eq!(RecordKind::Atl03.max_rows_in_group(), 645_277);
    }

    #[test]
    fn spot_and_ground_track_tables() {
        let fwd: Vec<u8> = [(1, 0), (1, 1), (2, 0), (2, 1), (3, 0), (3, 1)]
            .iter()
            .map(|(t, p)| spot_number(1, *t, *p))
            .collect();
        assert_eq!(fwd, vec![6, 5, 4, 3, 2, 1]);
        assert_eq!(spot_number(2, 1, 0), 0);
        assert_eq!(ground_track(1, 0), 10);
        assert_eq!(ground_track(3, 1), 60);
    }

    #[test]
    fn wkb_points_parse_back() {
        assert_eq!(parse_point(&[0u8; 3]), None);
        let mut b = vec![1u8, 1, 0, 0, 0];
        b.extend_from_slice(&(-26.2f64).to_le_bytes());
        b.extend_from_slice(&72.8f64.to_le_bytes());
        assert_eq!(parse_point(&b), Some((-26.2, 72.8)));
    }
}
