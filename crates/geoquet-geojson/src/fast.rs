//! The fast path of the GeoJSON reader: features parsed straight from a byte
//! slice (a chunk of the input), with no intermediate JSON tree.
//!
//! It accepts a strict subset of what the careful path
//! ([`super::scan`] + `serde_json` + [`geojson_to_wkb`]) accepts, and gives
//! exactly the same results for it: whenever anything is unusual (a syntax
//! error, a duplicate property, a lone surrogate, nesting deeper than
//! [`MAX_DEPTH`], ...) it gives up with [`Bail`] and the reader starts over on
//! the careful path, which then decides (and names the feature in its error).
//! Objects and arrays inside properties, feature ids and GeometryCollections
//! are handed to `serde_json` one value at a time, so they follow the careful
//! path's rules by construction.

use std::borrow::Cow;

use geoparquet_meta::{Dimension, GeometryType, GeometryTypeAndDimension};
use serde_json::Value;

use geoparquet_meta::geometry::{Extent, GeoJsonToWkbOptions, WkbWriter, geojson_to_wkb};

/// The fast path gives up: the careful path decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bail;

pub(crate) type R<T> = Result<T, Bail>;

/// Nesting deeper than this gives up (`serde_json` stops at 128).
pub(crate) const MAX_DEPTH: u32 = 100;

/// The record separator of RFC 8142 text sequences: white space between values.
const RS: u8 = 0x1E;

/// One JSON value, borrowed from the input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Tok<'a> {
    Null,
    Bool(bool),
    /// A number (within `f64`'s range: others give up).
    Num(Num<'a>),
    /// A string's text between the quotes (valid UTF-8), and whether it has escapes.
    Str(&'a [u8], bool),
    /// The whole text of an object or an array (checked).
    Complex(&'a [u8]),
}

impl<'a> Tok<'a> {
    /// The value as `serde_json` would build it.
    pub(crate) fn to_value(self) -> R<Value> {
        Ok(match self {
            Tok::Null => Value::Null,
            Tok::Bool(b) => Value::Bool(b),
            Tok::Num(n) => serde_json::from_slice(n.text).map_err(|_| Bail)?,
            Tok::Str(raw, escaped) => Value::String(decode(raw, escaped)?.into_owned()),
            Tok::Complex(text) => serde_json::from_slice(text).map_err(|_| Bail)?,
        })
    }
}

/// A number of the input, converted only when asked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Num<'a> {
    /// Its text (ASCII, strict JSON grammar).
    text: &'a [u8],
    /// Its value when `serde_json` would call it an `i64` (`-0` and
    /// integers beyond `i64` are floats there).
    pub(crate) int: Option<i64>,
    /// No fraction and no exponent.
    pub(crate) integer: bool,
}

impl Num<'_> {
    /// The value as `f64`, as `serde_json` reads it (`None` when out of range).
    pub(crate) fn f64(&self) -> Option<f64> {
        if let Some(i) = self.int {
            // Rounds to nearest, as parsing the digits does.
            return Some(i as f64);
        }
        lexical_core::parse::<f64>(self.text)
            .ok()
            .filter(|v| v.is_finite())
    }
}

/// The text of a string with its escapes resolved.
pub(crate) fn decode(raw: &[u8], escaped: bool) -> R<Cow<'_, str>> {
    let raw = std::str::from_utf8(raw).map_err(|_| Bail)?;
    if !escaped {
        return Ok(Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some((_, e)) = chars.next() else { break };
        match e {
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'u' => {
                let hex = |at: usize| {
                    raw.get(at..at + 4)
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                };
                let first = hex(i + 2).unwrap_or(0xFFFD);
                for _ in 0..4 {
                    chars.next();
                }
                let code = if (0xD800..0xDC00).contains(&first) {
                    // Checked by the scanner: a low surrogate escape follows.
                    let second = hex(i + 8).unwrap_or(0xDC00);
                    for _ in 0..6 {
                        chars.next();
                    }
                    0x10000 + ((first - 0xD800) << 10) + (second.saturating_sub(0xDC00) & 0x3FF)
                } else {
                    first
                };
                out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
            }
            other => out.push(other),
        }
    }
    Ok(Cow::Owned(out))
}

/// The bytes of a key: as they are, or with their escapes resolved.
fn key_bytes(raw: &[u8], escaped: bool) -> R<Cow<'_, [u8]>> {
    if escaped {
        Ok(Cow::Owned(decode(raw, true)?.into_owned().into_bytes()))
    } else {
        Ok(Cow::Borrowed(raw))
    }
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// A mask with the high bit set in (at least) the first byte of `x` that is
/// `"`, `\`, a control character or not ASCII; 0 when there is none.
#[inline]
fn special(x: u64) -> u64 {
    let zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    zero(x ^ (LO * u64::from(b'"')))
        | zero(x ^ (LO * u64::from(b'\\')))
        | (x.wrapping_sub(LO * 0x20) & !x & HI)
        | (x & HI)
}

/// A cursor over a chunk. Running out of bytes sets `eof` (the value may go
/// on in the next chunk); any other failure is a [`Bail`].
pub(crate) struct Cur<'a> {
    b: &'a [u8],
    pub(crate) i: usize,
    pub(crate) eof: bool,
}

fn hex4(b: &[u8]) -> Option<u32> {
    let mut v = 0;
    for &c in b {
        v = v * 16 + char::from(c).to_digit(16)?;
    }
    Some(v)
}

impl<'a> Cur<'a> {
    pub(crate) fn new(b: &'a [u8]) -> Self {
        Self {
            b,
            i: 0,
            eof: false,
        }
    }

    fn end<T>(&mut self) -> R<T> {
        self.eof = true;
        Err(Bail)
    }

    fn slice(&self, from: usize, to: usize) -> R<&'a [u8]> {
        self.b.get(from..to).ok_or(Bail)
    }

    /// Skips white space inside a value; the next byte.
    #[inline]
    fn ws(&mut self) -> R<u8> {
        while let Some(&c) = self.b.get(self.i) {
            if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                return Ok(c);
            }
            self.i += 1;
        }
        self.end()
    }

    /// Skips white space between top-level values (record separators too);
    /// the next byte, `None` at the end of the chunk.
    pub(crate) fn top_ws(&mut self) -> Option<u8> {
        while let Some(&c) = self.b.get(self.i) {
            if !matches!(c, b' ' | b'\t' | b'\n' | b'\r' | RS) {
                return Some(c);
            }
            self.i += 1;
        }
        None
    }

    #[inline]
    fn expect(&mut self, c: u8) -> R<()> {
        if self.ws()? == c {
            self.i += 1;
            Ok(())
        } else {
            Err(Bail)
        }
    }

    /// After a member or element: `true` for `,`, `false` for `close`.
    #[inline]
    fn separator(&mut self, close: u8) -> R<bool> {
        let c = self.ws()?;
        self.i += 1;
        if c == b',' {
            Ok(true)
        } else if c == close {
            Ok(false)
        } else {
            Err(Bail)
        }
    }

    /// At `"`: the string's raw text (checked: valid UTF-8, no control
    /// characters, valid escapes) and whether it has escapes.
    fn string(&mut self) -> R<(&'a [u8], bool)> {
        self.i += 1;
        let start = self.i;
        let mut escaped = false;
        let mut ascii = true;
        loop {
            // Eight plain bytes at a time.
            while let Some(word) = self.b.get(self.i..self.i + 8) {
                let Ok(word) = <[u8; 8]>::try_from(word) else {
                    break;
                };
                let m = special(u64::from_le_bytes(word));
                if m != 0 {
                    self.i += (m.trailing_zeros() / 8) as usize;
                    break;
                }
                self.i += 8;
            }
            let Some(&c) = self.b.get(self.i) else {
                return self.end();
            };
            match c {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    self.escape()?;
                }
                0..=0x1F => return Err(Bail),
                0x80.. => {
                    ascii = false;
                    self.i += 1;
                }
                _ => self.i += 1,
            }
        }
        let raw = self.slice(start, self.i)?;
        self.i += 1;
        if !ascii {
            std::str::from_utf8(raw).map_err(|_| Bail)?;
        }
        Ok((raw, escaped))
    }

    /// At `\`: one escape, surrogate pairs whole.
    fn escape(&mut self) -> R<()> {
        let Some(&e) = self.b.get(self.i + 1) else {
            return self.end();
        };
        match e {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {
                self.i += 2;
                Ok(())
            }
            b'u' => {
                let Some(h) = self.b.get(self.i + 2..self.i + 6) else {
                    return self.end();
                };
                let first = hex4(h).ok_or(Bail)?;
                self.i += 6;
                match first {
                    0xD800..=0xDBFF => {
                        let avail = self.b.get(self.i..).unwrap_or_default();
                        let Some(next) = avail.get(..6) else {
                            // A low surrogate escape must follow.
                            return if b"\\u".iter().zip(avail).all(|(a, b)| a == b) {
                                self.end()
                            } else {
                                Err(Bail)
                            };
                        };
                        let low = match next {
                            [b'\\', b'u', rest @ ..] => hex4(rest).ok_or(Bail)?,
                            _ => return Err(Bail),
                        };
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(Bail);
                        }
                        self.i += 6;
                        Ok(())
                    }
                    0xDC00..=0xDFFF => Err(Bail),
                    _ => Ok(()),
                }
            }
            _ => Err(Bail),
        }
    }

    /// At `-` or a digit: one number (strict JSON grammar). A number that
    /// reaches the end of the chunk may go on in the next one.
    fn number(&mut self) -> R<Num<'a>> {
        let start = self.i;
        let negative = self.b.get(self.i) == Some(&b'-');
        if negative {
            self.i += 1;
        }
        // The integer part, kept as u64 while it fits.
        let mut magnitude: Option<u64> = Some(0);
        let int_start = self.i;
        match self.b.get(self.i) {
            Some(b'0') => {
                self.i += 1;
                if self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
                    return Err(Bail);
                }
            }
            Some(b'1'..=b'9') => {
                while let Some(&d) = self.b.get(self.i) {
                    if !d.is_ascii_digit() {
                        break;
                    }
                    magnitude = magnitude
                        .and_then(|m| m.checked_mul(10))
                        .and_then(|m| m.checked_add(u64::from(d - b'0')));
                    self.i += 1;
                }
            }
            Some(_) => return Err(Bail),
            None => return self.end(),
        }
        let int_digits = self.i - int_start;
        let digits = |cur: &mut Self| -> usize {
            let from = cur.i;
            while cur.b.get(cur.i).is_some_and(u8::is_ascii_digit) {
                cur.i += 1;
            }
            cur.i - from
        };
        let mut integer = true;
        if self.b.get(self.i) == Some(&b'.') {
            integer = false;
            self.i += 1;
            if digits(self) == 0 {
                return if self.i >= self.b.len() {
                    self.end()
                } else {
                    Err(Bail)
                };
            }
        }
        let mut exponent = false;
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            integer = false;
            exponent = true;
            self.i += 1;
            if matches!(self.b.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            match digits(self) {
                0 if self.i >= self.b.len() => return self.end(),
                // Exponents this long are left to serde_json's own rules.
                0 | 5.. => return Err(Bail),
                _ => {}
            }
        }
        if self.i >= self.b.len() {
            return self.end();
        }
        let text = self.slice(start, self.i)?;
        // serde_json: non-negative integers are u64 (i64 when they fit),
        // negative ones i64; `-0` and anything beyond are f64.
        let int = match (integer, magnitude, negative) {
            (true, Some(m), false) => i64::try_from(m).ok(),
            (true, Some(m), true) if m > 0 => 0_i64.checked_sub_unsigned(m),
            _ => None,
        };
        let num = Num { text, int, integer };
        if exponent || int_digits > 300 {
            // serde_json refuses numbers beyond f64's range.
            num.f64().ok_or(Bail)?;
        }
        Ok(num)
    }

    fn literal(&mut self, word: &[u8]) -> R<()> {
        let avail = self.b.get(self.i..).unwrap_or_default();
        if avail.len() < word.len() {
            if word.starts_with(avail) {
                return self.end();
            }
            return Err(Bail);
        }
        if !avail.starts_with(word) {
            return Err(Bail);
        }
        self.i += word.len();
        Ok(())
    }

    /// One value after optional white space.
    pub(crate) fn value(&mut self, depth: u32) -> R<Tok<'a>> {
        match self.ws()? {
            b'"' => {
                let (s, e) = self.string()?;
                Ok(Tok::Str(s, e))
            }
            b'{' | b'[' => {
                let start = self.i;
                self.skip_complex(depth)?;
                Ok(Tok::Complex(self.slice(start, self.i)?))
            }
            b't' => self.literal(b"true").map(|()| Tok::Bool(true)),
            b'f' => self.literal(b"false").map(|()| Tok::Bool(false)),
            b'n' => self.literal(b"null").map(|()| Tok::Null),
            b'-' | b'0'..=b'9' => Ok(Tok::Num(self.number()?)),
            _ => Err(Bail),
        }
    }

    /// At `{` or `[`: checks the whole value and moves past it.
    fn skip_complex(&mut self, depth: u32) -> R<()> {
        if depth > MAX_DEPTH {
            return Err(Bail);
        }
        if self.b.get(self.i) == Some(&b'{') {
            return self.object(|cur, _| cur.value(depth + 1).map(drop));
        }
        self.i += 1;
        if self.ws()? == b']' {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.value(depth + 1)?;
            if !self.separator(b']')? {
                return Ok(());
            }
        }
    }

    /// At `{`: calls `member` with each key (escapes resolved) and leaves
    /// the cursor at the key's value; `member` must consume the value.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &[u8]) -> R<()>) -> R<()> {
        self.i += 1;
        if self.ws()? == b'}' {
            self.i += 1;
            return Ok(());
        }
        loop {
            if self.ws()? != b'"' {
                return Err(Bail);
            }
            let (raw, escaped) = self.string()?;
            self.expect(b':')?;
            member(self, &key_bytes(raw, escaped)?)?;
            if !self.separator(b'}')? {
                return Ok(());
            }
        }
    }
}

// --- geometries ------------------------------------------------------------------

/// Reusable buffers for one geometry's coordinates.
#[derive(Debug, Default)]
pub(crate) struct GeomScratch {
    /// X, Y, Z (0 when the position has no Z) of every position, in order.
    coords: Vec<[f64; 3]>,
    /// Element counts of the nested arrays, in pre-order.
    counts: Vec<u32>,
    /// Whether any position has a third number.
    has_z: bool,
    /// A Point with `"coordinates": []`.
    empty_point: bool,
}

/// The geometry type a GeoJSON `"type"` string (its decoded bytes) names.
fn geometry_type(name: &[u8]) -> Option<GeometryType> {
    std::str::from_utf8(name)
        .ok()
        .and_then(GeometryType::from_name)
}

/// How deep the coordinates of a type nest (1: one position).
fn coordinate_depth(t: GeometryType) -> u32 {
    match t {
        GeometryType::Point => 1,
        GeometryType::LineString | GeometryType::MultiPoint => 2,
        GeometryType::Polygon | GeometryType::MultiLineString => 3,
        GeometryType::MultiPolygon => 4,
        GeometryType::GeometryCollection => 0,
    }
}

impl Cur<'_> {
    /// At `[`: one position.
    fn position(&mut self, s: &mut GeomScratch) -> R<()> {
        self.expect(b'[')?;
        let mut xyz = [0.0_f64; 3];
        let mut n = 0;
        if self.ws()? == b']' {
            return Err(Bail);
        }
        loop {
            let c = self.ws()?;
            if !(c == b'-' || c.is_ascii_digit()) {
                return Err(Bail);
            }
            let v = self.number()?.f64().ok_or(Bail)?;
            if let Some(slot) = xyz.get_mut(n) {
                *slot = v;
            }
            n += 1;
            if !self.separator(b']')? {
                break;
            }
        }
        match n {
            0 | 1 => return Err(Bail),
            2 => {}
            _ => s.has_z = true,
        }
        s.coords.push(xyz);
        Ok(())
    }

    /// At `[`: coordinates nested `depth` deep.
    fn coordinates(&mut self, depth: u32, s: &mut GeomScratch) -> R<()> {
        if depth <= 1 {
            return self.position(s);
        }
        self.expect(b'[')?;
        let at = s.counts.len();
        s.counts.push(0);
        if self.ws()? == b']' {
            self.i += 1;
            return Ok(());
        }
        let mut n: u32 = 0;
        loop {
            self.coordinates(depth - 1, s)?;
            n = n.checked_add(1).ok_or(Bail)?;
            if !self.separator(b']')? {
                break;
            }
        }
        if let Some(c) = s.counts.get_mut(at) {
            *c = n;
        }
        Ok(())
    }

    /// The `"coordinates"` of a (non-collection) geometry.
    fn geometry_coordinates(&mut self, t: GeometryType, s: &mut GeomScratch) -> R<()> {
        s.coords.clear();
        s.counts.clear();
        s.has_z = false;
        s.empty_point = false;
        if t == GeometryType::Point {
            if self.ws()? != b'[' {
                return Err(Bail);
            }
            let at = self.i;
            self.i += 1;
            if self.ws()? == b']' {
                self.i += 1;
                s.empty_point = true;
                return Ok(());
            }
            self.i = at;
        }
        if self.ws()? != b'[' {
            return Err(Bail);
        }
        self.coordinates(coordinate_depth(t), s)
    }

    /// At `{`: a geometry object, its ISO WKB appended to `out`.
    pub(crate) fn geometry(
        &mut self,
        out: &mut Vec<u8>,
        extent: Option<&mut Extent>,
        s: &mut GeomScratch,
    ) -> R<GeometryTypeAndDimension> {
        let start = self.i;
        let mut ty: Option<GeometryType> = None;
        let mut parsed_for: Option<GeometryType> = None;
        let mut coords_at: Option<usize> = None;
        let mut collection = false;
        self.object(|cur, key| {
            match key {
                b"type" => match cur.value(2)? {
                    Tok::Str(raw, escaped) => {
                        ty = Some(geometry_type(&key_bytes(raw, escaped)?).ok_or(Bail)?);
                    }
                    _ => return Err(Bail),
                },
                b"coordinates" => {
                    cur.ws()?;
                    coords_at = Some(cur.i);
                    match ty {
                        Some(t) if t != GeometryType::GeometryCollection => {
                            cur.geometry_coordinates(t, s)?;
                            parsed_for = Some(t);
                        }
                        _ => {
                            parsed_for = None;
                            cur.value(2)?;
                        }
                    }
                }
                b"geometries" => {
                    collection = true;
                    cur.value(2)?;
                }
                _ => {
                    cur.value(2)?;
                }
            }
            Ok(())
        })?;
        let end = self.i;
        let t = ty.ok_or(Bail)?;
        if t == GeometryType::GeometryCollection || collection {
            if t != GeometryType::GeometryCollection {
                // A simple geometry with a "geometries" member: unusual.
                return Err(Bail);
            }
            let value: Value = serde_json::from_slice(self.slice(start, end)?).map_err(|_| Bail)?;
            return geojson_to_wkb(&value, GeoJsonToWkbOptions::default(), out, extent)
                .map_err(|_| Bail);
        }
        if parsed_for != Some(t) {
            // "coordinates" came before "type" (or twice): parse them now.
            let at = coords_at.ok_or(Bail)?;
            let mut again = Cur {
                b: self.b,
                i: at,
                eof: false,
            };
            again.geometry_coordinates(t, s)?;
        }
        write_wkb(t, s, out, extent)
    }
}

/// Writes what [`Cur::geometry_coordinates`] gathered through the codec's
/// [`WkbWriter`], as [`geojson_to_wkb`] does (Z = 0 for 2D positions of a 3D
/// geometry).
fn write_wkb(
    t: GeometryType,
    s: &GeomScratch,
    out: &mut Vec<u8>,
    mut extent: Option<&mut Extent>,
) -> R<GeometryTypeAndDimension> {
    let has_z = s.has_z;
    let dimension = if has_z { Dimension::Xyz } else { Dimension::Xy };
    let mut w = WkbWriter::new(out, dimension);
    let mut counts = s.counts.iter().copied();
    let mut coords = s.coords.iter();
    let mut count = |w: &mut WkbWriter<'_>| -> R<u32> {
        let n = counts.next().ok_or(Bail)?;
        w.count_u32(n);
        Ok(n)
    };
    let mut positions = |w: &mut WkbWriter<'_>, n: u32| -> R<()> {
        for _ in 0..n {
            let &[x, y, z] = coords.next().ok_or(Bail)?;
            w.coord(x, y, z, f64::NAN);
            if let Some(e) = extent.as_deref_mut() {
                e.add(x, y, has_z.then_some(z), None);
            }
        }
        Ok(())
    };
    w.header(t);
    match t {
        GeometryType::Point => {
            if s.empty_point {
                w.empty_coord();
            } else {
                positions(&mut w, 1)?;
            }
        }
        GeometryType::LineString => {
            let n = count(&mut w)?;
            positions(&mut w, n)?;
        }
        GeometryType::Polygon => {
            for _ in 0..count(&mut w)? {
                let n = count(&mut w)?;
                positions(&mut w, n)?;
            }
        }
        GeometryType::MultiPoint => {
            for _ in 0..count(&mut w)? {
                w.header(GeometryType::Point);
                positions(&mut w, 1)?;
            }
        }
        GeometryType::MultiLineString => {
            for _ in 0..count(&mut w)? {
                w.header(GeometryType::LineString);
                let n = count(&mut w)?;
                positions(&mut w, n)?;
            }
        }
        GeometryType::MultiPolygon => {
            for _ in 0..count(&mut w)? {
                w.header(GeometryType::Polygon);
                for _ in 0..count(&mut w)? {
                    let n = count(&mut w)?;
                    positions(&mut w, n)?;
                }
            }
        }
        GeometryType::GeometryCollection => return Err(Bail),
    }
    Ok(GeometryTypeAndDimension::new(t, dimension))
}

// --- features ----------------------------------------------------------------------

/// What a chunk's features are handed to.
pub(crate) trait Sink<'a> {
    /// A feature starts: forget anything of a previous, unfinished one.
    fn begin(&mut self);
    /// One member of the feature's `"properties"` (the key's bytes are UTF-8).
    fn property(&mut self, key: &[u8], value: Tok<'a>) -> R<()>;
    /// The feature is complete: its id (`Null` when absent) and geometry
    /// (`None` when null; its WKB is in `wkb`).
    fn end(&mut self, id: Tok<'a>, geometry: Option<GeometryTypeAndDimension>, wkb: &[u8])
    -> R<()>;
    /// Where the coordinates' extent goes, if anywhere.
    fn extent(&mut self) -> Option<&mut Extent>;
}

/// Per-chunk buffers.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    wkb: Vec<u8>,
    geom: GeomScratch,
}

/// At `{`: one Feature (or, outside a FeatureCollection, a bare geometry).
fn feature<'a, S: Sink<'a>>(
    cur: &mut Cur<'a>,
    in_collection: bool,
    sink: &mut S,
    scratch: &mut Scratch,
) -> R<()> {
    sink.begin();
    scratch.wkb.clear();
    let start = cur.i;
    let mut ty: Option<Cow<'a, [u8]>> = None;
    let mut id = Tok::Null;
    let mut properties_seen = false;
    let mut geometry_seen = false;
    let mut geometry: Option<GeometryTypeAndDimension> = None;
    cur.object(|cur, key| {
        match key {
            b"type" => match cur.value(1)? {
                Tok::Str(raw, escaped) => ty = Some(key_bytes(raw, escaped)?),
                _ => return Err(Bail),
            },
            b"id" => id = cur.value(1)?,
            b"properties" => {
                if properties_seen {
                    return Err(Bail);
                }
                properties_seen = true;
                match cur.ws()? {
                    b'{' => cur.object(|cur, name| {
                        let value = cur.value(2)?;
                        sink.property(name, value)
                    })?,
                    b'n' => cur.literal(b"null")?,
                    _ => return Err(Bail),
                }
            }
            b"geometry" => {
                if geometry_seen {
                    return Err(Bail);
                }
                geometry_seen = true;
                match cur.ws()? {
                    b'{' => {
                        geometry = Some(cur.geometry(
                            &mut scratch.wkb,
                            sink.extent(),
                            &mut scratch.geom,
                        )?);
                    }
                    b'n' => cur.literal(b"null")?,
                    _ => return Err(Bail),
                }
            }
            _ => {
                cur.value(1)?;
            }
        }
        Ok(())
    })?;
    match ty.as_deref() {
        Some(b"Feature") => sink.end(id, geometry, &scratch.wkb),
        Some(t) if !in_collection && geometry_type(t).is_some() => {
            if properties_seen || geometry_seen || id != Tok::Null {
                return Err(Bail);
            }
            let end = cur.i;
            let mut again = Cur {
                b: cur.b,
                i: start,
                eof: false,
            };
            let g = again.geometry(&mut scratch.wkb, sink.extent(), &mut scratch.geom)?;
            if again.i != end {
                return Err(Bail);
            }
            sink.end(Tok::Null, Some(g), &scratch.wkb)
        }
        _ => Err(Bail),
    }
}

/// How a chunk starts (arrays of features only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    /// Only white space.
    Nothing,
    /// A feature.
    Value,
    /// A `,` before the first feature.
    Comma,
    /// The `]` that closes the array.
    Close,
}

/// How a chunk ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// Every byte was used. For arrays: whether the last thing was a feature
    /// (`Some(true)`, a `,` must follow) or a `,` (`Some(false)`), `None`
    /// when the chunk held only white space.
    Clean(Option<bool>),
    /// The feature starting at this offset goes on past the chunk.
    Incomplete(usize),
    /// The array of features closes with the `]` at this offset.
    Closed(usize),
    /// Something the fast path does not take.
    Bail,
}

/// Where the features are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Values one after the other (newline-delimited GeoJSON).
    Sequence,
    /// Elements of an array; `true` inside a FeatureCollection.
    Elements { in_collection: bool },
}

/// Parses the features of one chunk into `sink`.
pub(crate) fn parse_chunk<'a, S: Sink<'a>>(
    buf: &'a [u8],
    mode: Mode,
    sink: &mut S,
    scratch: &mut Scratch,
) -> (Start, End) {
    let mut cur = Cur::new(buf);
    let in_collection = matches!(
        mode,
        Mode::Elements {
            in_collection: true
        }
    );
    let mut one = |cur: &mut Cur<'a>| -> Option<End> {
        let at = cur.i;
        match feature(cur, in_collection, sink, scratch) {
            Ok(()) => None,
            Err(Bail) if cur.eof => Some(End::Incomplete(at)),
            Err(Bail) => Some(End::Bail),
        }
    };
    if mode == Mode::Sequence {
        loop {
            match cur.top_ws() {
                None => return (Start::Value, End::Clean(None)),
                Some(b'{') => {}
                Some(_) => return (Start::Value, End::Bail),
            }
            if let Some(end) = one(&mut cur) {
                return (Start::Value, end);
            }
        }
    }
    let start = match cur.top_ws() {
        None => return (Start::Nothing, End::Clean(None)),
        Some(b',') => {
            cur.i += 1;
            if cur.top_ws().is_none() {
                return (Start::Comma, End::Clean(Some(false)));
            }
            Start::Comma
        }
        Some(b']') => return (Start::Close, End::Closed(cur.i)),
        Some(_) => Start::Value,
    };
    loop {
        if cur.top_ws() != Some(b'{') {
            return (start, End::Bail);
        }
        if let Some(end) = one(&mut cur) {
            return (start, end);
        }
        match cur.top_ws() {
            None => return (start, End::Clean(Some(true))),
            Some(b',') => {
                cur.i += 1;
                if cur.top_ws().is_none() {
                    return (start, End::Clean(Some(false)));
                }
            }
            Some(b']') => return (start, End::Closed(cur.i)),
            Some(_) => return (start, End::Bail),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_json_grammar() {
        let num = |s: &str| {
            let text = format!("{s},");
            let mut cur = Cur::new(text.as_bytes());
            cur.value(0).map(|t| match t {
                Tok::Num(n) => (String::from_utf8_lossy(n.text).into_owned(), n.integer),
                _ => (String::new(), false),
            })
        };
        assert_eq!(num("12"), Ok(("12".to_owned(), true)));
        assert_eq!(num("-0.5e3"), Ok(("-0.5e3".to_owned(), false)));
        for bad in ["01", "1.", ".5", "+1", "1e", "--1", "1e12345"] {
            assert_eq!(num(bad), Err(Bail), "{bad}");
        }
        // As serde_json reads them.
        for text in [
            "0",
            "-0",
            "7",
            "-7",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "18446744073709551615",
            "18446744073709551616",
            "123456789012345678901234567890",
            "0.1",
            "-2.5e-3",
            "1e308",
            "1E-400",
            "9007199254740993",
            "54.502901286688775",
        ] {
            let padded = format!("{text},");
            let mut cur = Cur::new(padded.as_bytes());
            let Ok(Tok::Num(n)) = cur.value(0) else {
                panic!("{text}")
            };
            let v: Value = serde_json::from_str(text).unwrap();
            assert_eq!(n.int, v.as_i64().filter(|_| v.is_i64()), "{text}");
            assert_eq!(
                n.f64().map(f64::to_bits),
                v.as_f64().map(f64::to_bits),
                "{text}"
            );
        }
        let mut cur = Cur::new(b"1e400,");
        assert_eq!(cur.value(0), Err(Bail));
        // Many random decimals: the same bits as serde_json (correct rounding).
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let int = next() % 1_000_000_000;
            let frac = next() % 100_000_000_000_000_000;
            let exp = (next() % 80) as i64 - 40;
            let text = match next() % 3 {
                0 => format!("-{int}.{frac}"),
                1 => format!("{int}.{frac:017}e{exp}"),
                _ => format!("{frac}.{int}E+{}", exp.abs()),
            };
            let padded = format!("{text},");
            let mut cur = Cur::new(padded.as_bytes());
            let Ok(Tok::Num(n)) = cur.value(0) else {
                panic!("{text}")
            };
            let v: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(
                n.f64().map(f64::to_bits),
                v.as_f64().map(f64::to_bits),
                "{text}"
            );
        }
    }

    #[test]
    fn strings_are_checked_and_decoded() {
        let s = |text: &str| {
            let mut cur = Cur::new(text.as_bytes());
            cur.value(0)
                .map(|t| match t {
                    Tok::Str(raw, e) => decode(raw, e).map(Cow::into_owned).unwrap_or_default(),
                    _ => String::new(),
                })
                .map_err(|_| cur.eof)
        };
        assert_eq!(s(r#""a\"b\u00e9\ud83d\ude00""#), Ok("a\"bé😀".to_owned()));
        assert_eq!(s(r#""\ud83d""#), Err(false));
        assert_eq!(s(r#""\ude00""#), Err(false));
        assert_eq!(s("\"a\tb\""), Err(false));
        assert_eq!(s(r#""\x""#), Err(false));
        assert_eq!(s(r#""abc"#), Err(true));
    }

    #[test]
    fn truncation_is_not_an_error() {
        let mut cur = Cur::new(b"{\"a\": [1, 2");
        assert_eq!(cur.value(0), Err(Bail));
        assert!(cur.eof);
        let mut cur = Cur::new(b"{\"a\": [1, 2}");
        assert_eq!(cur.value(0), Err(Bail));
        assert!(!cur.eof);
    }
}
