//! The record types: ATL06 elevations, ATL08 vegetation segments and ATL03
//! extents with their photons, as the v4.8–v4.20 SlideRule servers define them
//! (`atl06rec.elevation`, `atl08rec.vegetation`, `atl03rec` + `atl03rec.photons`).
//!
//! Field names, types and units are the server's; column orders are the
//! server's hash-table orders (not the declaration order), per output layout.
//!
//! Each record struct is declared once, by the `record!` macro: the struct, its
//! fields' column types, the code that appends it to column buffers, reads it back
//! from a batch and parses it from an input row all come from that one list, and
//! each server column order is checked against the fields when the crate compiles.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int32Type, TimestampNanosecondType, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrowPrimitiveType, RecordBatch};
use arrow_schema::DataType;
use std::borrow::Cow;

use crate::columns::{Col, FieldType};
use crate::error::{Error, Result};
use crate::input::Get;

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

impl std::str::FromStr for RecordKind {
    type Err = Error;

    /// Parses `atl06`, `atl08`, `atl03` (any case, also with the `p`/`sp`
    /// endpoint suffix or the `rec` record-type suffix).
    ///
    /// ```
    /// use sliderule_export::RecordKind;
    /// assert_eq!("atl03sp".parse::<RecordKind>()?, RecordKind::Atl03);
    /// assert_eq!(RecordKind::Atl08.to_string().parse::<RecordKind>()?, RecordKind::Atl08);
    /// assert!("atl24".parse::<RecordKind>().is_err());
    /// # Ok::<(), sliderule_export::Error>(())
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "atl06" | "atl06p" | "atl06rec" => Ok(Self::Atl06),
            "atl08" | "atl08p" | "atl08rec" => Ok(Self::Atl08),
            "atl03" | "atl03s" | "atl03sp" | "atl03rec" => Ok(Self::Atl03),
            _ => Err(Error::UnknownName {
                what: "record type",
                value: s.to_owned(),
                expected: "atl06, atl08 or atl03",
            }),
        }
    }
}

impl std::fmt::Display for RecordKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Atl06 => "atl06",
            Self::Atl08 => "atl08",
            Self::Atl03 => "atl03",
        })
    }
}

impl RecordKind {
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
            Self::Atl03 => Atl03Extent::FIELDS,
            Self::Atl06 | Self::Atl08 => &[],
        }
    }

    /// Per-row (batch element) fields, in declaration order.
    #[must_use]
    pub fn element_fields(self) -> &'static [(&'static str, FieldType)] {
        match self {
            Self::Atl06 => Atl06Elevation::FIELDS,
            Self::Atl08 => Atl08Vegetation::FIELDS,
            Self::Atl03 => Atl03Photon::FIELDS,
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
            (Self::Atl06, false) => &ATL06_PLAIN,
            (Self::Atl06, true) => &ATL06_GEO,
            (Self::Atl08, false) => &ATL08_PLAIN,
            (Self::Atl08, true) => &ATL08_GEO,
            (Self::Atl03, false) => &ATL03_PLAIN,
            (Self::Atl03, true) => &ATL03_GEO,
        }
    }
}

// The server's column orders (its hash tables' iteration orders) of the plain layout;
// the GeoParquet layout drops `latitude` and `longitude` and ends with `geometry`.
// Each is checked, when the crate compiles, to name every field of its record once.
const ATL06_PLAIN: [&str; 19] = [
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
const ATL08_PLAIN: [&str; 23] = [
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
const ATL03_PLAIN: [&str; 24] = [
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
const ATL06_GEO: [&str; ATL06_PLAIN.len() - 1] = geo_order(&ATL06_PLAIN);
const ATL08_GEO: [&str; ATL08_PLAIN.len() - 1] = geo_order(&ATL08_PLAIN);
const ATL03_GEO: [&str; ATL03_PLAIN.len() - 1] = geo_order(&ATL03_PLAIN);
const _: () = assert!(is_order_of(&ATL06_PLAIN, &[], Atl06Elevation::FIELDS));
const _: () = assert!(is_order_of(&ATL08_PLAIN, &[], Atl08Vegetation::FIELDS));
const _: () = assert!(is_order_of(
    &ATL03_PLAIN,
    Atl03Extent::FIELDS,
    Atl03Photon::FIELDS
));

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The GeoParquet order of a plain order: without `latitude` and `longitude`,
/// `geometry` last (a compile error when the plain order lacks either).
const fn geo_order<const N: usize>(plain: &[&'static str]) -> [&'static str; N] {
    let mut out = [""; N];
    let (mut i, mut j) = (0, 0);
    while i < plain.len() {
        if !str_eq(plain[i], "latitude") && !str_eq(plain[i], "longitude") {
            out[j] = plain[i];
            j += 1;
        }
        i += 1;
    }
    assert!(
        j + 1 == N,
        "the plain order must hold latitude and longitude once"
    );
    out[j] = "geometry";
    out
}

/// Whether `order` names each field of `parent` and `element` exactly once.
const fn is_order_of(
    order: &[&str],
    parent: &[(&str, FieldType)],
    element: &[(&str, FieldType)],
) -> bool {
    if order.len() != parent.len() + element.len() {
        return false;
    }
    let mut i = 0;
    while i < order.len() {
        let mut seen = 0;
        let mut k = 0;
        while k < parent.len() {
            if str_eq(order[i], parent[k].0) {
                seen += 1;
            }
            k += 1;
        }
        k = 0;
        while k < element.len() {
            if str_eq(order[i], element[k].0) {
                seen += 1;
            }
            k += 1;
        }
        if seen != 1 {
            return false;
        }
        let mut j = 0;
        while j < i {
            if str_eq(order[i], order[j]) {
                return false;
            }
            j += 1;
        }
        i += 1;
    }
    true
}

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

/// A value of a record field: its column type, how it is appended to a column
/// buffer, read back from a batch and parsed from an input row.
pub(crate) trait FieldValue: Copy + Default {
    /// The column type.
    const TYPE: FieldType;
    /// Appends the value to its column (of type [`FieldValue::TYPE`]).
    fn push(self, col: &mut Col);
    /// The values of column `name` of a batch.
    fn column<'c>(c: &'c Columns<'_>, name: &str) -> Result<Cow<'c, [Self]>>;
    /// The value of field `name` of an input row.
    fn from_row(row: &Get<'_>, name: &str) -> Result<Self>;
}

macro_rules! integer_field {
    ($($t:ty => $variant:ident, $push:ident, $arrow:ty;)*) => {$(
        impl FieldValue for $t {
            const TYPE: FieldType = FieldType::$variant;
            #[inline]
            fn push(self, col: &mut Col) {
                col.$push(self);
            }
            fn column<'c>(c: &'c Columns<'_>, name: &str) -> Result<Cow<'c, [Self]>> {
                c.prim::<$arrow>(name).map(Cow::Borrowed)
            }
            fn from_row(row: &Get<'_>, name: &str) -> Result<Self> {
                row.int(name)
            }
        }
    )*};
}

integer_field! {
    i8 => Int8, push_i8, Int8Type;
    i32 => Int32, push_i32, Int32Type;
    u8 => UInt8, push_u8, UInt8Type;
    u16 => UInt16, push_u16, UInt16Type;
    u32 => UInt32, push_u32, UInt32Type;
    u64 => UInt64, push_u64, UInt64Type;
}

impl FieldValue for f32 {
    const TYPE: FieldType = FieldType::Float32;
    #[inline]
    fn push(self, col: &mut Col) {
        col.push_f32(self);
    }
    fn column<'c>(c: &'c Columns<'_>, name: &str) -> Result<Cow<'c, [Self]>> {
        c.prim::<Float32Type>(name).map(Cow::Borrowed)
    }
    fn from_row(row: &Get<'_>, name: &str) -> Result<Self> {
        row.f32(name)
    }
}

/// `latitude` and `longitude` come from the `geometry` column in the GeoParquet layout.
impl FieldValue for f64 {
    const TYPE: FieldType = FieldType::Float64;
    #[inline]
    fn push(self, col: &mut Col) {
        col.push_f64(self);
    }
    fn column<'c>(c: &'c Columns<'_>, name: &str) -> Result<Cow<'c, [Self]>> {
        c.f64s(name).map(Cow::Borrowed)
    }
    fn from_row(row: &Get<'_>, name: &str) -> Result<Self> {
        row.f64(name)
    }
}

/// Times: Unix-epoch nanoseconds, `timestamp[ns]` columns (the only `i64` fields).
impl FieldValue for i64 {
    const TYPE: FieldType = FieldType::Time;
    #[inline]
    fn push(self, col: &mut Col) {
        col.push_time(self);
    }
    fn column<'c>(c: &'c Columns<'_>, name: &str) -> Result<Cow<'c, [Self]>> {
        c.time(name).map(Cow::Borrowed)
    }
    fn from_row(row: &Get<'_>, _name: &str) -> Result<Self> {
        row.time()
    }
}

impl FieldValue for [f32; CANOPY_METRICS] {
    const TYPE: FieldType = FieldType::Float32List(CANOPY_METRICS);
    #[inline]
    fn push(self, col: &mut Col) {
        col.push_f32_list(&self);
    }
    fn column<'c>(c: &'c Columns<'_>, name: &str) -> Result<Cow<'c, [Self]>> {
        c.f32_lists(name, CANOPY_METRICS).map(Cow::Owned)
    }
    fn from_row(row: &Get<'_>, name: &str) -> Result<Self> {
        row.metrics(name)
    }
}

/// Declares a record struct once: its public fields (each a column, in the
/// server's declaration order) and, after `;`, fields that are not columns
/// (an extent's photons). Generates the struct, `FIELDS` (names and column
/// types), `append_rows` (values into column buffers), `batch_reader` (rows of a
/// batch) and `from_row` (an input row).
macro_rules! record {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty, )*
            $( ; $(#[$xmeta:meta])* $xfield:ident : $xty:ty, )?
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
            $( $(#[$xmeta])* pub $xfield: $xty, )?
        }

        impl $name {
            /// The column fields, in declaration order, with their types.
            pub(crate) const FIELDS: &'static [(&'static str, FieldType)] =
                &[$( (stringify!($field), <$ty as FieldValue>::TYPE), )*];

            /// Appends each row's values to `cols` (the columns of `FIELDS`, in
            /// order); returns the rows appended.
            #[inline]
            fn append_rows<'r>(rows: impl IntoIterator<Item = &'r Self>, cols: &mut [Col]) -> usize {
                let [$($field),*] = cols else {
                    debug_assert!(false, "column buffers of another record");
                    return 0;
                };
                let mut n = 0;
                for row in rows {
                    $( FieldValue::push(row.$field, $field); )*
                    n += 1;
                }
                n
            }

            /// A reader of the rows of a batch (plain or GeoParquet layout): the
            /// columns are checked once, then row `i` is built on demand.
            fn batch_reader<'c>(c: &'c Columns<'_>) -> Result<impl Fn(usize) -> Self + 'c> {
                $( let $field = <$ty as FieldValue>::column(c, stringify!($field))?; )*
                Ok(move |i: usize| Self {
                    $( $field: $field.get(i).copied().unwrap_or_default(), )*
                    $( $xfield: <$xty>::default(), )?
                })
            }

            /// The record of one input row (fields checked in declaration order).
            pub(crate) fn from_row(row: &Get<'_>) -> Result<Self> {
                Ok(Self {
                    $( $field: FieldValue::from_row(row, stringify!($field))?, )*
                    $( $xfield: <$xty>::default(), )?
                })
            }
        }
    };
}

record! {
    /// One ATL06-SR segment (`atl06rec.elevation`, 80 bytes on the server).
    #[derive(Debug, Clone, Copy, PartialEq, Default)]
    pub struct Atl06Elevation {
        /// Extent id (bit 1 set for elevation products).
        extent_id: u64,
        /// ATL03 segment id of the first segment.
        segment_id: u32,
        /// Photons in the final fit.
        n_fit_photons: i32,
        /// Processing flags (0x1 spread too short, 0x2 too few photons, …).
        pflags: u16,
        /// Reference ground track.
        rgt: u16,
        /// Cycle.
        cycle: u8,
        /// Granule region.
        region: u8,
        /// Laser spot 1–6 (0 unknown).
        spot: u8,
        /// Ground track: 10 gt1l, 20 gt1r, …, 60 gt3r.
        gt: u8,
        /// Unix-epoch nanoseconds (UTC); see [`crate::time::delta_time_to_unix_ns`].
        time: i64,
        /// Degrees north (WGS 84).
        latitude: f64,
        /// Degrees east (WGS 84).
        longitude: f64,
        /// Elevation, metres above the WGS 84 ellipsoid.
        h_mean: f64,
        /// Along-track slope (m/m).
        dh_fit_dx: f32,
        /// Along-track distance from the equator (m).
        x_atc: f32,
        /// Across-track distance (m).
        y_atc: f32,
        /// Final surface window width (m).
        w_surface_window_final: f32,
        /// RMS of the fit residuals (m).
        rms_misfit: f32,
        /// Fit error estimate (m).
        h_sigma: f32,
    }
}

/// One `atl06rec`: a batch of elevations.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Atl06Record {
    /// The segments, in order.
    pub elevations: Vec<Atl06Elevation>,
}

record! {
    /// One PhoREAL extent (`atl08rec.vegetation`, 176 bytes on the server).
    #[derive(Debug, Clone, Copy, PartialEq, Default)]
    pub struct Atl08Vegetation {
        /// Extent id (bit 1 set).
        extent_id: u64,
        /// ATL03 segment id.
        segment_id: u32,
        /// Reference ground track.
        rgt: u16,
        /// Cycle (still 16 bits in this record).
        cycle: u16,
        /// Laser spot 1–6.
        spot: u8,
        /// Ground track 10…60.
        gt: u8,
        /// Photons used by PhoREAL.
        ph_count: u32,
        /// Ground photons.
        gnd_ph_count: u32,
        /// Canopy and top-of-canopy photons.
        veg_ph_count: u32,
        /// ATL08 `segment_landcover` (0xFF invalid).
        landcover: u8,
        /// ATL08 `segment_snowcover` (0xFF invalid).
        snowcover: u8,
        /// Unix-epoch nanoseconds (UTC).
        time: i64,
        /// Degrees north.
        latitude: f64,
        /// Degrees east.
        longitude: f64,
        /// Along-track distance from the equator (m).
        x_atc: f32,
        /// Solar elevation (degrees).
        solar_elevation: f32,
        /// Median terrain height of ground photons (m).
        h_te_median: f32,
        /// Maximum canopy relief (m).
        h_max_canopy: f32,
        /// Minimum canopy relief (m).
        h_min_canopy: f32,
        /// Mean canopy relief (m).
        h_mean_canopy: f32,
        /// 98th-percentile canopy relief (m).
        h_canopy: f32,
        /// Standard deviation of canopy relief (m).
        canopy_openness: f32,
        /// Relief at the percentiles 5, 10, …, 95 and a 20th value (m).
        canopy_h_metrics: [f32; CANOPY_METRICS],
    }
}

/// One `atl08rec`: a batch of vegetation segments.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Atl08Record {
    /// The segments, in order.
    pub vegetation: Vec<Atl08Vegetation>,
}

record! {
    /// One photon (`atl03rec.photons`, 48 bytes on the server).
    #[derive(Debug, Clone, Copy, PartialEq, Default)]
    pub struct Atl03Photon {
        /// Unix-epoch nanoseconds (UTC), from ATL03 `delta_time`.
        time: i64,
        /// Degrees north (`lat_ph`).
        latitude: f64,
        /// Degrees east (`lon_ph`).
        longitude: f64,
        /// Along-track distance relative to the extent centre (m).
        x_atc: f32,
        /// Across-track distance (m).
        y_atc: f32,
        /// Height above the ellipsoid (m, `h_ph`).
        height: f32,
        /// ATL08 relief (m); 0.0 without PhoREAL.
        relief: f32,
        /// ATL08 landcover; 0xFF without PhoREAL.
        landcover: u8,
        /// ATL08 snowcover; 0xFF without PhoREAL.
        snowcover: u8,
        /// 0 noise, 1 ground, 2 canopy, 3 top of canopy, 4 unclassified.
        atl08_class: u8,
        /// Signal confidence −2…4.
        atl03_cnf: i8,
        /// 0 nominal, 1 possible afterpulse, 2 possible impulse response, 3 possible TEP.
        quality_ph: i8,
        /// YAPC weight (16 bits from v4.20).
        yapc_score: u16,
    }
}

record! {
    /// One `atl03rec`: an extent (one pair track, one side) and its photons.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct Atl03Extent {
        /// Granule region.
        region: u8,
        /// Reference pair track 1–3.
        track: u8,
        /// 0 left, 1 right.
        pair: u8,
        /// 0 backward, 1 forward, 2 transition.
        sc_orient: u8,
        /// Reference ground track.
        rgt: u16,
        /// Cycle.
        cycle: u8,
        /// ATL03 segment id of the extent.
        segment_id: u32,
        /// Along-track distance from the equator to the extent centre (m).
        segment_dist: f64,
        /// Background rate (PE/s).
        background_rate: f64,
        /// Solar elevation (degrees).
        solar_elevation: f32,
        /// Extent id (bit 1 clear for photon extents).
        extent_id: u64,
        ;
        /// The photons.
        photons: Vec<Atl03Photon>,
    }
}

impl Record for Atl06Record {
    const KIND: RecordKind = RecordKind::Atl06;
    fn row_count(&self) -> usize {
        self.elevations.len()
    }
    fn append_to(&self, buf: &mut ColumnBuffer) {
        buf.rows += Atl06Elevation::append_rows(&self.elevations, &mut buf.elements);
    }
}

impl Record for Atl06Elevation {
    const KIND: RecordKind = RecordKind::Atl06;
    fn row_count(&self) -> usize {
        1
    }
    fn append_to(&self, buf: &mut ColumnBuffer) {
        buf.rows += Self::append_rows([self], &mut buf.elements);
    }
}

impl Record for Atl08Record {
    const KIND: RecordKind = RecordKind::Atl08;
    fn row_count(&self) -> usize {
        self.vegetation.len()
    }
    fn append_to(&self, buf: &mut ColumnBuffer) {
        buf.rows += Atl08Vegetation::append_rows(&self.vegetation, &mut buf.elements);
    }
}

impl Record for Atl08Vegetation {
    const KIND: RecordKind = RecordKind::Atl08;
    fn row_count(&self) -> usize {
        1
    }
    fn append_to(&self, buf: &mut ColumnBuffer) {
        buf.rows += Self::append_rows([self], &mut buf.elements);
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
        if Self::append_rows([self], &mut buf.parent) == 0 {
            return;
        }
        buf.rows += Atl03Photon::append_rows(&self.photons, &mut buf.elements);
        buf.counts
            .push(u32::try_from(self.photons.len()).unwrap_or(u32::MAX));
    }
}

// ---------------------------------------------------------------------------
// Reading back: record batches (from SlideRule's files or ours) into records.

/// The columns of a batch being read back into records.
pub(crate) struct Columns<'a> {
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

    fn time(&self, name: &str) -> Result<&'a [i64]> {
        let col = self
            .batch
            .column_by_name(name)
            .ok_or_else(|| self.err(name, "missing"))?;
        match col.data_type() {
            DataType::Timestamp(arrow_schema::TimeUnit::Nanosecond, _) => Ok(col
                .as_primitive::<TimestampNanosecondType>()
                .values()
                .as_ref()),
            other => Err(self.err(name, format!("has type {other}, expected timestamp[ns]"))),
        }
    }

    /// A float64 column; `latitude` and `longitude` from the points of the
    /// `geometry` column in the GeoParquet layout.
    fn f64s(&self, name: &str) -> Result<&[f64]> {
        match (&self.points, name) {
            (Some((_, lat)), "latitude") => Ok(lat),
            (Some((lon, _)), "longitude") => Ok(lon),
            _ => self.prim::<Float64Type>(name),
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
        let row = Self::batch_reader(&c)?;
        Ok((0..batch.num_rows()).map(row).collect())
    }
}

impl Atl08Vegetation {
    /// Reads the rows of a batch (plain or GeoParquet layout).
    pub fn from_batch(batch: &RecordBatch, source: &str) -> Result<Vec<Self>> {
        let c = Columns::new(batch, source)?;
        let row = Self::batch_reader(&c)?;
        Ok((0..batch.num_rows()).map(row).collect())
    }
}

impl Atl03Extent {
    /// Reads the rows of a flattened batch (one row per photon) back into
    /// extents: consecutive rows with the same `extent_id` form one extent.
    pub fn from_batch(batch: &RecordBatch, source: &str) -> Result<Vec<Self>> {
        let c = Columns::new(batch, source)?;
        let extent = Self::batch_reader(&c)?;
        let photon = Atl03Photon::batch_reader(&c)?;
        let mut out: Vec<Self> = Vec::new();
        for i in 0..batch.num_rows() {
            let (e, p) = (extent(i), photon(i));
            match out.last_mut() {
                Some(last) if last.extent_id == e.extent_id => last.photons.push(p),
                _ => {
                    let mut e = e;
                    e.photons.push(p);
                    out.push(e);
                }
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
