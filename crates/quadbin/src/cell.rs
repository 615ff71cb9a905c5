//! The [`Cell`] and [`Tile`] types and the integer algorithms on them.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result, truncate};

/// The highest resolution a Quadbin cell can have.
pub const MAX_RESOLUTION: u8 = 26;

/// Bit 62, set in every Quadbin index.
pub const HEADER: u64 = 0x4000_0000_0000_0000;
/// The mode bits (59 to 61) of a cell: mode 1.
pub const CELL_MODE: u64 = 1 << 59;
/// The 52 low bits that hold the Morton code and the trailing ones.
pub const FOOTER: u64 = 0x000F_FFFF_FFFF_FFFF;
/// The five resolution bits (52 to 56).
const RESOLUTION_MASK: u64 = 0x1F << 52;
/// The three mode bits (59 to 61).
const MODE_MASK: u64 = 0x7 << 59;
/// Bits 57 and 58, zero for cells.
const MODE_DEPENDENT_MASK: u64 = 0x3 << 57;

/// Half the circumference of the Web Mercator sphere (metres): the grid spans
/// `-ORIGIN_SHIFT..ORIGIN_SHIFT` in x and y.
pub const MERCATOR_ORIGIN_SHIFT: f64 = 20_037_508.342_789_244;

/// A Quadbin cell: a validated 64-bit index (Quadbin mode 1).
///
/// The value is checked by the CARTO Analytics Toolbox rule (`QUADBIN_ISVALID`):
/// bit 63 clear, header bit 62 set, mode 1, resolution at most 26, and every
/// bit below the Morton code set (`FOOTER >> 2z`). This is stricter than
/// quadbin-py 0.2.2, which masks with `FOOTER >> 4z`.
///
/// # Examples
///
/// ```
/// use quadbin::{Cell, Tile};
/// let cell = Cell::new(5_209_574_053_332_910_079)?;
/// assert_eq!(cell.tile(), Tile { x: 9, y: 8, z: 4 });
/// assert_eq!(cell.to_string(), "484c1fffffffffff");
/// assert!(Cell::new(0x484c_1fff_ffff_fffe).is_err());
/// # Ok::<(), quadbin::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cell(pub(crate) u64);

/// A Web Mercator (XYZ, "Google") tile: `y` grows from north to south.
///
/// The fields are public, so a `Tile` may be off the grid; [`Cell::from_tile`]
/// checks it.
///
/// # Examples
///
/// ```
/// use quadbin::{Cell, Tile};
/// let tile = Tile { x: 7, y: 6, z: 4 };
/// assert_eq!(Cell::from_tile(tile)?.get(), 5_207_251_884_775_047_167);
/// let [west, south, east, north] = tile.bounds_lonlat();
/// assert_eq!((west, east), (-22.5, 0.0));
/// assert!((south - 21.943045533438188).abs() < 1e-12 && (north - 40.97989806962013).abs() < 1e-12);
/// # Ok::<(), quadbin::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tile {
    /// Column, `0..2^z`, west to east.
    pub x: u32,
    /// Row, `0..2^z`, north to south.
    pub y: u32,
    /// Zoom level, the Quadbin resolution (0 to 26).
    pub z: u8,
}

/// A direction for [`Cell::sibling`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// North: row `y - 1`.
    Up,
    /// South: row `y + 1`.
    Down,
    /// West: column `x - 1`.
    Left,
    /// East: column `x + 1`.
    Right,
}

impl FromStr for Direction {
    type Err = Error;

    /// Parses `up`, `down`, `left` or `right` (any case).
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "up" => Ok(Self::Up),
            "down" => Ok(Self::Down),
            "left" => Ok(Self::Left),
            "right" => Ok(Self::Right),
            _ => Err(Error::Parse {
                text: truncate(s),
                rule: "a direction is up, down, left or right",
            }),
        }
    }
}

/// Spreads the low 32 bits of `v` so that bit k moves to bit 2k.
#[inline]
const fn spread(v: u64) -> u64 {
    let mut v = v & 0xFFFF_FFFF;
    v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFF;
    v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FF;
    v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    v = (v | (v << 2)) & 0x3333_3333_3333_3333;
    (v | (v << 1)) & 0x5555_5555_5555_5555
}

/// The inverse of [`spread`]: gathers the even bits of `v`.
#[inline]
fn compact(v: u64) -> u64 {
    let mut v = v & 0x5555_5555_5555_5555;
    v = (v | (v >> 1)) & 0x3333_3333_3333_3333;
    v = (v | (v >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    v = (v | (v >> 4)) & 0x00FF_00FF_00FF_00FF;
    v = (v | (v >> 8)) & 0x0000_FFFF_0000_FFFF;
    (v | (v >> 16)) & 0x0000_0000_FFFF_FFFF
}

/// The unused-bit mask of resolution `z` (`z <= 26`).
#[inline]
const fn unused_bits(z: u8) -> u64 {
    FOOTER >> (2 * z as u32)
}

/// [`spread`] of every byte, for [`spread_table`].
const SPREAD_BYTE: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        {
            t[i] = spread(i as u64) as u16;
        }
        i += 1;
    }
    t
};

/// [`spread`] of the low 26 bits by table, one look-up per byte (shorter
/// dependency chains than the shifts).
#[inline]
fn spread_table(v: u32) -> u64 {
    let b = |k: u32| u64::from(SPREAD_BYTE[((v >> (8 * k)) & 0xFF) as usize]) << (16 * k);
    (b(0) | b(1)) | (b(2) | b(3))
}

/// Encodes a tile that is known to be on the grid.
#[inline]
pub(crate) fn encode(x: u32, y: u32, z: u8) -> u64 {
    // The 2z interleaved bits of x and y (y's odd), moved up to end at bit 51,
    // right below the resolution field.
    let morton = spread_table(x) | (spread_table(y) << 1);
    HEADER | CELL_MODE | (u64::from(z) << 52) | (morton << (52 - 2 * u32::from(z))) | unused_bits(z)
}

/// Why `value` is not a valid Quadbin *index* (any mode 0 to 6), if it is not.
fn index_violation(value: u64) -> Option<&'static str> {
    if value >> 63 != 0 {
        return Some("bit 63 (the sign bit) is set");
    }
    if value & HEADER == 0 {
        return Some("the header bit 62 is not set");
    }
    if (value & MODE_MASK) >> 59 > 6 {
        return Some("the mode (bits 59-61) is 7, above 6");
    }
    let z = (value & RESOLUTION_MASK) >> 52;
    if z > u64::from(MAX_RESOLUTION) {
        return Some("the resolution (bits 52-56) is above 26");
    }
    let mask = unused_bits(z as u8);
    if value & mask != mask {
        return Some("the unused bits below the Morton code are not all ones");
    }
    None
}

/// Why `value` is not a valid Quadbin *cell* (mode 1), if it is not.
fn cell_violation(value: u64) -> Option<&'static str> {
    if let Some(rule) = index_violation(value) {
        return Some(rule);
    }
    if value & MODE_MASK != CELL_MODE {
        return Some("the mode (bits 59-61) is not 1 (cell)");
    }
    if value & MODE_DEPENDENT_MASK != 0 {
        return Some("the mode-dependent bits 57-58 are not zero");
    }
    None
}

/// Whether `value` is a valid Quadbin cell by the Analytics Toolbox rule.
///
/// # Examples
///
/// ```
/// assert!(quadbin::is_valid_cell(0x4940_0000_0003_3fff));
/// // quadbin-py 0.2.2 accepts this one; the toolbox rule does not.
/// assert!(!quadbin::is_valid_cell(0x4940_0000_0003_3ffe));
/// assert!(!quadbin::is_valid_cell(0x584c_1fff_ffff_ffff)); // mode 3: an index, not a cell
/// ```
#[must_use]
pub fn is_valid_cell(value: u64) -> bool {
    cell_violation(value).is_none()
}

/// Whether `value` is a valid Quadbin index (modes 0 to 6, reserved by the
/// format for cells, edges and vertices) by the Analytics Toolbox rule.
///
/// # Examples
///
/// ```
/// assert!(quadbin::is_valid_index(0x584c_1fff_ffff_ffff));
/// assert!(!quadbin::is_valid_index(0xc84c_1fff_ffff_ffff)); // bit 63 set
/// ```
#[must_use]
pub fn is_valid_index(value: u64) -> bool {
    index_violation(value).is_none()
}

/// Checks a resolution.
fn check_resolution(resolution: u8) -> Result<()> {
    if resolution > MAX_RESOLUTION {
        Err(Error::ResolutionOutOfRange {
            resolution: u32::from(resolution),
        })
    } else {
        Ok(())
    }
}

impl Cell {
    /// The single cell at resolution 0, covering the whole Web Mercator world.
    pub const WORLD: Cell = Cell(0x480f_ffff_ffff_ffff);

    /// Validates `value` as a cell (see the type docs for the rule).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCell`] naming the broken rule.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = quadbin::Cell::new(1234).unwrap_err();
    /// assert!(err.to_string().contains("header bit 62"));
    /// ```
    pub fn new(value: u64) -> Result<Self> {
        match cell_violation(value) {
            None => Ok(Self(value)),
            Some(rule) => Err(Error::InvalidCell { value, rule }),
        }
    }

    /// The 64-bit value.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(quadbin::Cell::WORLD.get(), 5_192_650_370_358_181_887);
    /// ```
    #[must_use]
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The cell of a tile (`QUADBIN_FROMZXY`).
    ///
    /// # Errors
    ///
    /// [`Error::ResolutionOutOfRange`] for `z > 26`, [`Error::TileOutOfRange`]
    /// when `x` or `y` is not below `2^z`.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadbin::{Cell, Tile};
    /// assert_eq!(Cell::from_tile(Tile { x: 1, y: 2, z: 3 })?.get(), 5_202_361_257_054_699_519);
    /// assert!(Cell::from_tile(Tile { x: 8, y: 0, z: 3 }).is_err());
    /// # Ok::<(), quadbin::Error>(())
    /// ```
    pub fn from_tile(tile: Tile) -> Result<Self> {
        let Tile { x, y, z } = tile;
        check_resolution(z)?;
        let n = 1u64 << z;
        if u64::from(x) >= n || u64::from(y) >= n {
            return Err(Error::TileOutOfRange { z, x, y });
        }
        Ok(Self(encode(x, y, z)))
    }

    /// The tile of this cell (`QUADBIN_TOZXY`).
    ///
    /// # Examples
    ///
    /// ```
    /// use quadbin::{Cell, Tile};
    /// let cell: Cell = "484c1fffffffffff".parse()?;
    /// assert_eq!(cell.tile(), Tile { x: 9, y: 8, z: 4 });
    /// # Ok::<(), quadbin::Error>(())
    /// ```
    #[must_use]
    pub fn tile(self) -> Tile {
        let z = self.resolution();
        let q = (self.0 & FOOTER) << 12;
        let shift = 32 - u32::from(z);
        let (x, y) = (
            (compact(q) >> shift) as u32,
            (compact(q >> 1) >> shift) as u32,
        );
        Tile { x, y, z }
    }

    /// The resolution, 0 to 26 (`QUADBIN_RESOLUTION`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(quadbin::Cell::WORLD.resolution(), 0);
    /// ```
    #[must_use]
    pub const fn resolution(self) -> u8 {
        // A valid cell's resolution is at most 26, so the cast keeps it.
        ((self.0 & RESOLUTION_MASK) >> 52) as u8
    }

    /// The parent at `resolution` (`QUADBIN_TOPARENT`); the cell itself when
    /// `resolution` is its own.
    ///
    /// # Errors
    ///
    /// [`Error::ParentResolution`] when `resolution` is finer than the cell's.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadbin::{Cell, Tile};
    /// let cell = Cell::from_tile(Tile { x: 7, y: 6, z: 4 })?;
    /// assert_eq!(cell.parent(3)?.get(), 5_202_783_469_519_765_503);
    /// assert_eq!(cell.parent(0)?, Cell::WORLD);
    /// assert!(cell.parent(5).is_err());
    /// # Ok::<(), quadbin::Error>(())
    /// ```
    pub fn parent(self, resolution: u8) -> Result<Self> {
        let own = self.resolution();
        if resolution > own {
            return Err(Error::ParentResolution {
                resolution: own,
                parent_resolution: resolution,
            });
        }
        Ok(Self(
            (self.0 & !RESOLUTION_MASK) | (u64::from(resolution) << 52) | unused_bits(resolution),
        ))
    }

    /// The children at `resolution` (`QUADBIN_TOCHILDREN`), lazily, in
    /// ascending Morton (Z) order; the cell itself when `resolution` is its own.
    ///
    /// For one level the order is top-left, top-right, bottom-left, bottom-right.
    ///
    /// # Errors
    ///
    /// [`Error::ChildrenResolution`] when `resolution` is coarser than the
    /// cell's or above 26.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadbin::{Cell, Tile};
    /// let cell = Cell::from_tile(Tile { x: 7, y: 6, z: 4 })?;
    /// let children: Vec<u64> = cell.children(5)?.map(Cell::get).collect();
    /// assert_eq!(children, [
    ///     5_211_742_290_262_884_351, 5_211_746_688_309_395_455,
    ///     5_211_751_086_355_906_559, 5_211_755_484_402_417_663,
    /// ]);
    /// assert_eq!(cell.children(12)?.len(), 65_536);
    /// # Ok::<(), quadbin::Error>(())
    /// ```
    pub fn children(self, resolution: u8) -> Result<Children> {
        let own = self.resolution();
        if resolution < own || resolution > MAX_RESOLUTION {
            return Err(Error::ChildrenResolution {
                resolution: own,
                children_resolution: resolution,
            });
        }
        let step_shift = 52 - 2 * u32::from(resolution);
        let count = 1u64 << (2 * u32::from(resolution - own));
        let base = ((self.0 & !RESOLUTION_MASK) | (u64::from(resolution) << 52))
            & !((count - 1) << step_shift);
        Ok(Children {
            base,
            step_shift,
            next: 0,
            count,
        })
    }

    /// The neighbour in `direction` (`QUADBIN_SIBLING`, Analytics Toolbox
    /// semantics): `x` wraps around the antimeridian, `None` above the first
    /// row or below the last, and `None` at resolution 0 (a cell is not its
    /// own sibling).
    ///
    /// See [`Cell::sibling_no_wrap`] for quadbin-py's semantics.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadbin::{Cell, Direction, Tile};
    /// let cell = Cell::from_tile(Tile { x: 0, y: 0, z: 2 })?;
    /// assert_eq!(cell.sibling(Direction::Left).map(Cell::tile), Some(Tile { x: 3, y: 0, z: 2 }));
    /// assert_eq!(cell.sibling(Direction::Up), None);
    /// assert_eq!(cell.sibling_no_wrap(Direction::Left), None);
    /// # Ok::<(), quadbin::Error>(())
    /// ```
    #[must_use]
    pub fn sibling(self, direction: Direction) -> Option<Self> {
        let Tile { x, y, z } = self.tile();
        if z == 0 {
            return None;
        }
        let max = (1u32 << z) - 1;
        let (x, y) = match direction {
            Direction::Up => (x, y.checked_sub(1)?),
            Direction::Down => (x, Some(y + 1).filter(|&y| y <= max)?),
            Direction::Left => (x.wrapping_sub(1) & max, y),
            Direction::Right => ((x + 1) & max, y),
        };
        Some(Self(encode(x, y, z)))
    }

    /// The neighbour in `direction` with quadbin-py 0.2.2's semantics
    /// (`cell_sibling`): `None` at every grid edge, no wrap around the antimeridian.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadbin::{Cell, Direction, Tile};
    /// let cell = Cell::from_tile(Tile { x: 7, y: 6, z: 4 })?;
    /// assert_eq!(cell.sibling_no_wrap(Direction::Up).map(Cell::get), Some(5_207_146_331_658_780_671));
    /// # Ok::<(), quadbin::Error>(())
    /// ```
    #[must_use]
    pub fn sibling_no_wrap(self, direction: Direction) -> Option<Self> {
        let Tile { x, y, z } = self.tile();
        let max = (1u32 << z) - 1;
        let (x, y) = match direction {
            Direction::Up => (x, y.checked_sub(1)?),
            Direction::Down => (x, Some(y + 1).filter(|&y| y <= max)?),
            Direction::Left => (x.checked_sub(1)?, y),
            Direction::Right => (Some(x + 1).filter(|&x| x <= max)?, y),
        };
        Some(Self(encode(x, y, z)))
    }

    /// The cells within Chebyshev distance `k` (`QUADBIN_KRING_DISTANCES`),
    /// lazily, each with its distance.
    ///
    /// Analytics Toolbox semantics: `x` wraps around the antimeridian, rows off
    /// the grid are dropped, and every cell appears once (with its smallest
    /// distance, counting the wrap). The order is quadbin-py's: row by row from
    /// the north-west corner of the square.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadbin::{Cell, Tile};
    /// let origin = Cell::from_tile(Tile { x: 9, y: 8, z: 4 })?;
    /// let ring: Vec<(Cell, u32)> = origin.k_ring(1).collect();
    /// assert_eq!(ring.len(), 9);
    /// assert_eq!(ring[4], (origin, 0));
    /// // At the north-west corner only 2 rows remain and x wraps: 2 x 3 cells.
    /// assert_eq!(Cell::from_tile(Tile { x: 0, y: 0, z: 4 })?.k_ring(1).count(), 6);
    /// # Ok::<(), quadbin::Error>(())
    /// ```
    #[must_use]
    pub fn k_ring(self, k: u32) -> KRing {
        let Tile { x, y, z } = self.tile();
        let n = 1u64 << z;
        let k = u64::from(k);
        // Rows within the grid.
        let y0 = u64::from(y).saturating_sub(k);
        let y1 = (u64::from(y) + k).min(n - 1);
        // Columns: the whole row when the square is at least as wide as the grid.
        let width = (2 * k + 1).min(n);
        KRing {
            z,
            x: u64::from(x),
            y: u64::from(y),
            n,
            k,
            row: y0,
            last_row: y1,
            col: 0,
            width,
        }
    }

    /// The Chebyshev distance in tiles to `other` (`QUADBIN_DISTANCE`), or
    /// `None` when the resolutions differ. Like the toolbox, it does not wrap
    /// around the antimeridian.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadbin::{Cell, Tile};
    /// let a = Cell::from_tile(Tile { x: 1, y: 1, z: 5 })?;
    /// let b = Cell::from_tile(Tile { x: 4, y: 2, z: 5 })?;
    /// assert_eq!(a.distance(b), Some(3));
    /// assert_eq!(a.distance(Cell::WORLD), None);
    /// # Ok::<(), quadbin::Error>(())
    /// ```
    #[must_use]
    pub fn distance(self, other: Self) -> Option<u32> {
        let (a, b) = (self.tile(), other.tile());
        (a.z == b.z).then(|| a.x.abs_diff(b.x).max(a.y.abs_diff(b.y)))
    }

    /// The Bing quadkey (`QUADBIN_TOQUADKEY`): `z` base-4 digits, empty at resolution 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadbin::{Cell, Tile};
    /// assert_eq!(Cell::from_tile(Tile { x: 9, y: 8, z: 4 })?.quadkey(), "3001");
    /// assert_eq!(Cell::WORLD.quadkey(), "");
    /// # Ok::<(), quadbin::Error>(())
    /// ```
    #[must_use]
    pub fn quadkey(self) -> String {
        let z = u32::from(self.resolution());
        let digits = (self.0 & FOOTER) >> (52 - 2 * z);
        (0..z)
            .rev()
            .map(|i| char::from(b'0' + ((digits >> (2 * i)) & 3) as u8))
            .collect()
    }

    /// The cell of a Bing quadkey (`QUADBIN_FROMQUADKEY`); the empty quadkey is
    /// [`Cell::WORLD`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidQuadkey`] for more than 26 digits or a digit other than
    /// `0`..`3`.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = quadbin::Cell::from_quadkey("0331110121")?;
    /// assert_eq!(cell.get(), 5_234_261_499_580_514_303);
    /// assert!(quadbin::Cell::from_quadkey("0124").is_err());
    /// # Ok::<(), quadbin::Error>(())
    /// ```
    pub fn from_quadkey(quadkey: &str) -> Result<Self> {
        let bytes = quadkey.as_bytes();
        if bytes.len() > usize::from(MAX_RESOLUTION) {
            return Err(Error::InvalidQuadkey {
                quadkey: truncate(quadkey),
                rule: "longer than 26 digits",
            });
        }
        let mut digits = 0u64;
        for &b in bytes {
            if !(b'0'..=b'3').contains(&b) {
                return Err(Error::InvalidQuadkey {
                    quadkey: truncate(quadkey),
                    rule: "a digit is not 0, 1, 2 or 3",
                });
            }
            digits = (digits << 2) | u64::from(b - b'0');
        }
        let z = bytes.len() as u8;
        Ok(Self(
            HEADER
                | CELL_MODE
                | (u64::from(z) << 52)
                | (digits << (52 - 2 * u32::from(z)))
                | unused_bits(z),
        ))
    }

    /// The bounding box `[west, south, east, north]` in degrees (`QUADBIN_BBOX`).
    ///
    /// # Examples
    ///
    /// ```
    /// let [w, s, e, n] = quadbin::Cell::WORLD.bbox();
    /// assert_eq!((w, e), (-180.0, 180.0));
    /// assert!((n - 85.05112877980659).abs() < 1e-12 && s == -n);
    /// ```
    #[must_use]
    pub fn bbox(self) -> [f64; 4] {
        self.tile().bounds_lonlat()
    }

    /// The centre `[lon, lat]` in degrees (`QUADBIN_CENTER`), by the continuous
    /// formula at every resolution, as quadbin-py does.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadbin::{Cell, Tile};
    /// let [lon, lat] = Cell::from_tile(Tile { x: 7, y: 6, z: 4 })?.center();
    /// assert_eq!(lon, -11.25);
    /// assert!((lat - 31.952162238024965).abs() < 1e-12);
    /// # Ok::<(), quadbin::Error>(())
    /// ```
    #[must_use]
    pub fn center(self) -> [f64; 2] {
        let Tile { x, y, z } = self.tile();
        let n = tiles_per_side(z);
        [
            tile_lon(f64::from(x) + 0.5, n),
            tile_lat(f64::from(y) + 0.5, n),
        ]
    }

    /// The boundary polygon ring (`QUADBIN_BOUNDARY`) as `[lon, lat]` points,
    /// closed, in quadbin-py's order: north-west, south-west, south-east,
    /// north-east, north-west.
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = quadbin::Cell::WORLD.boundary();
    /// assert_eq!(ring[0], ring[4]);
    /// assert_eq!(ring[2][0], 180.0);
    /// ```
    #[must_use]
    pub fn boundary(self) -> [[f64; 2]; 5] {
        let [w, s, e, n] = self.bbox();
        [[w, n], [w, s], [e, s], [e, n], [w, n]]
    }
}

impl Tile {
    /// The bounds `[west, south, east, north]` in degrees.
    ///
    /// Tiles off the grid give coordinates beyond the world (no panic).
    ///
    /// # Examples
    ///
    /// ```
    /// let [w, s, e, n] = quadbin::Tile { x: 1, y: 0, z: 1 }.bounds_lonlat();
    /// assert_eq!((w, s, e), (0.0, 0.0, 180.0));
    /// assert!((n - 85.05112877980659).abs() < 1e-12);
    /// ```
    #[must_use]
    pub fn bounds_lonlat(&self) -> [f64; 4] {
        let n = tiles_per_side(self.z);
        let (x, y) = (f64::from(self.x), f64::from(self.y));
        [
            tile_lon(x, n),
            tile_lat(y + 1.0, n),
            tile_lon(x + 1.0, n),
            tile_lat(y, n),
        ]
    }

    /// The bounds `[xmin, ymin, xmax, ymax]` in Web Mercator metres (EPSG:3857).
    ///
    /// # Examples
    ///
    /// ```
    /// let [xmin, ymin, xmax, ymax] = quadbin::Tile { x: 0, y: 0, z: 0 }.bounds_mercator();
    /// assert_eq!((xmin, ymax), (-quadbin::MERCATOR_ORIGIN_SHIFT, quadbin::MERCATOR_ORIGIN_SHIFT));
    /// assert_eq!((xmax, ymin), (quadbin::MERCATOR_ORIGIN_SHIFT, -quadbin::MERCATOR_ORIGIN_SHIFT));
    /// ```
    #[must_use]
    pub fn bounds_mercator(&self) -> [f64; 4] {
        let size = 2.0 * MERCATOR_ORIGIN_SHIFT / tiles_per_side(self.z);
        let (x, y) = (f64::from(self.x), f64::from(self.y));
        [
            -MERCATOR_ORIGIN_SHIFT + x * size,
            MERCATOR_ORIGIN_SHIFT - (y + 1.0) * size,
            -MERCATOR_ORIGIN_SHIFT + (x + 1.0) * size,
            MERCATOR_ORIGIN_SHIFT - y * size,
        ]
    }
}

/// `2^z` as a float, for any `z` (no shift overflow).
#[inline]
pub(crate) fn tiles_per_side(z: u8) -> f64 {
    f64::from(z).exp2()
}

/// The longitude of tile column edge `t` (fractional) with `n` tiles per side.
#[inline]
pub(crate) fn tile_lon(t: f64, n: f64) -> f64 {
    180.0 * (2.0 * t / n - 1.0)
}

/// The latitude of tile row edge `t` (fractional) with `n` tiles per side.
#[inline]
pub(crate) fn tile_lat(t: f64, n: f64) -> f64 {
    let e = (-(2.0 * t / n - 1.0) * std::f64::consts::PI).exp();
    360.0 * (e.atan() / std::f64::consts::PI - 0.25)
}

/// The lazy iterator of [`Cell::children`].
#[derive(Debug, Clone)]
pub struct Children {
    base: u64,
    step_shift: u32,
    next: u64,
    count: u64,
}

impl Iterator for Children {
    type Item = Cell;

    fn next(&mut self) -> Option<Cell> {
        (self.next < self.count).then(|| {
            let cell = Cell(self.base | (self.next << self.step_shift));
            self.next += 1;
            cell
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.count - self.next).unwrap_or(usize::MAX);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Children {}

/// The lazy iterator of [`Cell::k_ring`]: `(cell, distance)` pairs.
#[derive(Debug, Clone)]
pub struct KRing {
    z: u8,
    x: u64,
    y: u64,
    n: u64,
    k: u64,
    row: u64,
    last_row: u64,
    col: u64,
    width: u64,
}

impl Iterator for KRing {
    type Item = (Cell, u32);

    fn next(&mut self) -> Option<(Cell, u32)> {
        if self.row > self.last_row {
            return None;
        }
        // Column offset `col - k` from the origin, wrapped onto the grid.
        // The row starts k columns to the west of the origin; when the square
        // is as wide as the grid, the row is every column once from there.
        let start = (self.x + self.n - self.k % self.n) % self.n;
        let cx = (start + self.col) % self.n;
        let dx = (cx + self.n - self.x) % self.n;
        let dx = dx.min(self.n - dx);
        let dy = self.row.abs_diff(self.y);
        let distance = u32::try_from(dx.max(dy)).unwrap_or(u32::MAX);
        let cell = Cell(encode(cx as u32, self.row as u32, self.z));
        self.col += 1;
        if self.col == self.width {
            self.col = 0;
            self.row += 1;
        }
        Some((cell, distance))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.row > self.last_row {
            return (0, Some(0));
        }
        let left = (self.last_row - self.row + 1) * self.width - self.col;
        let left = usize::try_from(left).unwrap_or(usize::MAX);
        (left, Some(left))
    }
}

impl ExactSizeIterator for KRing {}

impl fmt::Debug for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Tile { x, y, z } = self.tile();
        write!(f, "Cell({:016x}: z {z} x {x} y {y})", self.0)
    }
}

/// Lower-case hexadecimal, 16 digits, as the toolbox prints cells.
impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::LowerHex for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerHex::fmt(&self.0, f)
    }
}

impl From<Cell> for u64 {
    fn from(cell: Cell) -> u64 {
        cell.0
    }
}

impl TryFrom<u64> for Cell {
    type Error = Error;

    fn try_from(value: u64) -> Result<Self> {
        Self::new(value)
    }
}

impl TryFrom<i64> for Cell {
    type Error = Error;

    /// From the signed form stored in Parquet `INT64` columns.
    fn try_from(value: i64) -> Result<Self> {
        Self::new(value.cast_unsigned())
    }
}

impl TryFrom<Tile> for Cell {
    type Error = Error;

    fn try_from(tile: Tile) -> Result<Self> {
        Self::from_tile(tile)
    }
}

/// Reads a Quadbin index written as text, without validating it.
///
/// The rule: `0x` or `0X` followed by hex digits is hexadecimal; exactly 16 hex
/// digits (the toolbox's text form, e.g. `484c1fffffffffff`) is hexadecimal;
/// anything else must be a decimal `u64`. A 16-digit decimal number is below
/// `10^16`, far under `2^62`, so it can never be a cell: reading it as hex loses
/// nothing.
///
/// # Errors
///
/// [`Error::Parse`] for anything else.
///
/// # Examples
///
/// ```
/// assert_eq!(quadbin::parse_index("0x480fffffffffffff")?, 5_192_650_370_358_181_887);
/// assert_eq!(quadbin::parse_index("480fffffffffffff")?, 5_192_650_370_358_181_887);
/// assert_eq!(quadbin::parse_index("5192650370358181887")?, 5_192_650_370_358_181_887);
/// assert!(quadbin::parse_index("480fff").is_err());
/// # Ok::<(), quadbin::Error>(())
/// ```
pub fn parse_index(text: &str) -> Result<u64> {
    let t = text.trim();
    let err = |rule| Error::Parse {
        text: truncate(text),
        rule,
    };
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        if hex.is_empty() || hex.len() > 16 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(err("after 0x, expected 1 to 16 hexadecimal digits"));
        }
        return u64::from_str_radix(hex, 16).map_err(|_| err("not hexadecimal"));
    }
    if t.len() == 16 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return u64::from_str_radix(t, 16).map_err(|_| err("not hexadecimal"));
    }
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(
            "expected a decimal number, 0x-prefixed hex, or exactly 16 hex digits",
        ));
    }
    t.parse::<u64>()
        .map_err(|_| err("the decimal number does not fit in 64 bits"))
}

impl FromStr for Cell {
    type Err = Error;

    /// Reads a cell by the rule of [`parse_index`], then validates it.
    fn from_str(s: &str) -> Result<Self> {
        Self::new(parse_index(s)?)
    }
}
