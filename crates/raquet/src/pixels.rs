//! Typed pixel arrays: one band of one tile (or window), row-major.

use half::f16;

use crate::BandType;

/// The samples of one band, in their own type, row-major (top row first).
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum Pixels {
    Uint8(Vec<u8>),
    Int8(Vec<i8>),
    Uint16(Vec<u16>),
    Int16(Vec<i16>),
    Uint32(Vec<u32>),
    Int32(Vec<i32>),
    Uint64(Vec<u64>),
    Int64(Vec<i64>),
    Float16(Vec<f16>),
    Float32(Vec<f32>),
    Float64(Vec<f64>),
}

macro_rules! each {
    ($self:expr, $v:ident => $e:expr) => {
        match $self {
            Pixels::Uint8($v) => $e,
            Pixels::Int8($v) => $e,
            Pixels::Uint16($v) => $e,
            Pixels::Int16($v) => $e,
            Pixels::Uint32($v) => $e,
            Pixels::Int32($v) => $e,
            Pixels::Uint64($v) => $e,
            Pixels::Int64($v) => $e,
            Pixels::Float16($v) => $e,
            Pixels::Float32($v) => $e,
            Pixels::Float64($v) => $e,
        }
    };
}

/// Converts an `f64` into a sample type, rounding and saturating for integers.
pub(crate) trait Sample: Copy {
    fn from_f64(v: f64) -> Self;
    fn to_f64(self) -> f64;
}

macro_rules! int_sample {
    ($($t:ty),*) => {$(
        impl Sample for $t {
            fn from_f64(v: f64) -> Self {
                // `as` saturates and maps NaN to 0, which is what we want.
                v.round() as $t
            }
            fn to_f64(self) -> f64 {
                self as f64
            }
        }
    )*};
}
int_sample!(u8, i8, u16, i16, u32, i32, u64, i64);

impl Sample for f16 {
    fn from_f64(v: f64) -> Self {
        f16::from_f64(v)
    }
    fn to_f64(self) -> f64 {
        f16::to_f64(self)
    }
}
impl Sample for f32 {
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}
impl Sample for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
    fn to_f64(self) -> f64 {
        self
    }
}

fn from_le<const N: usize, T>(bytes: &[u8], f: impl Fn([u8; N]) -> T) -> Vec<T> {
    bytes
        .chunks_exact(N)
        .map(|c| {
            let mut a = [0u8; N];
            a.copy_from_slice(c);
            f(a)
        })
        .collect()
}

impl Pixels {
    /// Decodes little-endian samples (`bytes.len()` must be a multiple of the size;
    /// a trailing partial sample is ignored).
    ///
    /// ```
    /// use raquet::{BandType, Pixels};
    /// let p = Pixels::from_le_bytes(BandType::Uint16, &[1, 0, 0, 1]);
    /// assert_eq!(p, Pixels::Uint16(vec![1, 256]));
    /// ```
    pub fn from_le_bytes(t: BandType, bytes: &[u8]) -> Pixels {
        match t {
            BandType::Uint8 => Pixels::Uint8(bytes.to_vec()),
            BandType::Int8 => Pixels::Int8(bytes.iter().map(|b| i8::from_le_bytes([*b])).collect()),
            BandType::Uint16 => Pixels::Uint16(from_le(bytes, u16::from_le_bytes)),
            BandType::Int16 => Pixels::Int16(from_le(bytes, i16::from_le_bytes)),
            BandType::Uint32 => Pixels::Uint32(from_le(bytes, u32::from_le_bytes)),
            BandType::Int32 => Pixels::Int32(from_le(bytes, i32::from_le_bytes)),
            BandType::Uint64 => Pixels::Uint64(from_le(bytes, u64::from_le_bytes)),
            BandType::Int64 => Pixels::Int64(from_le(bytes, i64::from_le_bytes)),
            BandType::Float16 => Pixels::Float16(from_le(bytes, f16::from_le_bytes)),
            BandType::Float32 => Pixels::Float32(from_le(bytes, f32::from_le_bytes)),
            BandType::Float64 => Pixels::Float64(from_le(bytes, f64::from_le_bytes)),
        }
    }

    /// Samples of a type from `f64` values (integers rounded and saturated).
    ///
    /// ```
    /// use raquet::{BandType, Pixels};
    /// assert_eq!(Pixels::from_f64(BandType::Uint8, &[1.4, 300.0, -2.0]), Pixels::Uint8(vec![1, 255, 0]));
    /// ```
    pub fn from_f64(t: BandType, values: &[f64]) -> Pixels {
        fn conv<T: Sample>(v: &[f64]) -> Vec<T> {
            v.iter().map(|x| T::from_f64(*x)).collect()
        }
        match t {
            BandType::Uint8 => Pixels::Uint8(conv(values)),
            BandType::Int8 => Pixels::Int8(conv(values)),
            BandType::Uint16 => Pixels::Uint16(conv(values)),
            BandType::Int16 => Pixels::Int16(conv(values)),
            BandType::Uint32 => Pixels::Uint32(conv(values)),
            BandType::Int32 => Pixels::Int32(conv(values)),
            BandType::Uint64 => Pixels::Uint64(conv(values)),
            BandType::Int64 => Pixels::Int64(conv(values)),
            BandType::Float16 => Pixels::Float16(conv(values)),
            BandType::Float32 => Pixels::Float32(conv(values)),
            BandType::Float64 => Pixels::Float64(values.to_vec()),
        }
    }

    /// `n` samples of one value.
    pub fn filled(t: BandType, value: f64, n: usize) -> Pixels {
        Pixels::from_f64(t, &vec![value; n])
    }

    /// The sample type.
    pub fn band_type(&self) -> BandType {
        match self {
            Pixels::Uint8(_) => BandType::Uint8,
            Pixels::Int8(_) => BandType::Int8,
            Pixels::Uint16(_) => BandType::Uint16,
            Pixels::Int16(_) => BandType::Int16,
            Pixels::Uint32(_) => BandType::Uint32,
            Pixels::Int32(_) => BandType::Int32,
            Pixels::Uint64(_) => BandType::Uint64,
            Pixels::Int64(_) => BandType::Int64,
            Pixels::Float16(_) => BandType::Float16,
            Pixels::Float32(_) => BandType::Float32,
            Pixels::Float64(_) => BandType::Float64,
        }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        each!(self, v => v.len())
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sample `i` as `f64` (`None` past the end).
    ///
    /// ```
    /// assert_eq!(raquet::Pixels::Int8(vec![-3]).get(0), Some(-3.0));
    /// ```
    pub fn get(&self, i: usize) -> Option<f64> {
        each!(self, v => v.get(i).map(|x| Sample::to_f64(*x)))
    }

    /// Sets sample `i` from an `f64` (ignored past the end).
    pub fn set(&mut self, i: usize, value: f64) {
        each!(self, v => if let Some(slot) = v.get_mut(i) { *slot = Sample::from_f64(value) })
    }

    /// Every sample as `f64`.
    pub fn to_f64_vec(&self) -> Vec<f64> {
        each!(self, v => v.iter().map(|x| Sample::to_f64(*x)).collect())
    }

    /// Appends the little-endian bytes of every sample to `out`.
    ///
    /// ```
    /// let mut out = Vec::new();
    /// raquet::Pixels::Int16(vec![-2]).write_le_bytes(&mut out);
    /// assert_eq!(out, vec![0xfe, 0xff]);
    /// ```
    pub fn write_le_bytes(&self, out: &mut Vec<u8>) {
        out.reserve(self.len() * self.band_type().size());
        match self {
            Pixels::Uint8(v) => out.extend_from_slice(v),
            Pixels::Int8(v) => out.extend(v.iter().map(|x| x.to_le_bytes()[0])),
            Pixels::Uint16(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            Pixels::Int16(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            Pixels::Uint32(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            Pixels::Int32(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            Pixels::Uint64(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            Pixels::Int64(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            Pixels::Float16(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            Pixels::Float32(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            Pixels::Float64(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        }
    }

    /// The little-endian bytes of every sample.
    pub fn to_le_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_le_bytes(&mut out);
        out
    }
}
