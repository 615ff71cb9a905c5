//! Column buffers: records are appended value by value into typed vectors,
//! which become Arrow arrays when a row group is flushed.

use std::sync::Arc;

use arrow_array::builder::{BinaryBuilder, Float32Builder, ListBuilder};
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int32Type, TimestampNanosecondType, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{ArrayRef, PrimitiveArray};
use arrow_schema::{DataType, Field, TimeUnit};

/// The value type of a record field (SlideRule's RecordObject types that
/// the p-series layouts use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldType {
    /// `INT8` → `int8`.
    Int8,
    /// `INT32` → `int32`.
    Int32,
    /// `UINT8` → `uint8`.
    UInt8,
    /// `UINT16` → `uint16`.
    UInt16,
    /// `UINT32` → `uint32`.
    UInt32,
    /// `UINT64` → `uint64`.
    UInt64,
    /// `FLOAT` → `float32`.
    Float32,
    /// `DOUBLE` → `float64`.
    Float64,
    /// `TIME8` → `timestamp[ns]` without time zone (Unix-epoch nanoseconds).
    Time,
    /// A fixed `FLOAT` array of this many elements → `list<float32>`.
    Float32List(usize),
}

impl FieldType {
    /// The Arrow type SlideRule writes for it.
    #[must_use]
    pub fn data_type(self) -> DataType {
        match self {
            Self::Int8 => DataType::Int8,
            Self::Int32 => DataType::Int32,
            Self::UInt8 => DataType::UInt8,
            Self::UInt16 => DataType::UInt16,
            Self::UInt32 => DataType::UInt32,
            Self::UInt64 => DataType::UInt64,
            Self::Float32 => DataType::Float32,
            Self::Float64 => DataType::Float64,
            Self::Time => DataType::Timestamp(TimeUnit::Nanosecond, None),
            Self::Float32List(_) => {
                DataType::List(Arc::new(Field::new("item", DataType::Float32, true)))
            }
        }
    }

    /// `pandas_type` and `numpy_type` of the `pandas` metadata template.
    #[must_use]
    pub fn pandas_types(self) -> (&'static str, &'static str) {
        match self {
            Self::Int8 => ("int8", "int8"),
            Self::Int32 => ("int32", "int32"),
            Self::UInt8 => ("uint8", "uint8"),
            Self::UInt16 => ("uint16", "uint16"),
            Self::UInt32 => ("uint32", "uint32"),
            Self::UInt64 => ("uint64", "uint64"),
            Self::Float32 => ("float32", "float32"),
            Self::Float64 => ("float64", "float64"),
            Self::Time => ("datetime", "datetime64[ns]"),
            Self::Float32List(_) => ("bytes", "object"),
        }
    }

    /// Bytes per value in the in-memory buffer.
    pub(crate) fn width(self) -> usize {
        match self {
            Self::Int8 | Self::UInt8 => 1,
            Self::UInt16 => 2,
            Self::Int32 | Self::UInt32 | Self::Float32 => 4,
            Self::UInt64 | Self::Float64 | Self::Time => 8,
            Self::Float32List(n) => 4 * n,
        }
    }
}

/// One buffered column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Col {
    I8(Vec<i8>),
    I32(Vec<i32>),
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    U64(Vec<u64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    Time(Vec<i64>),
    F32List(Vec<f32>, usize),
}

macro_rules! push_fn {
    ($name:ident, $variant:ident, $ty:ty) => {
        #[inline]
        pub(crate) fn $name(&mut self, v: $ty) {
            if let Self::$variant(c) = self {
                c.push(v);
            } else {
                debug_assert!(false, "column type mismatch");
            }
        }
    };
}

impl Col {
    pub(crate) fn new(t: FieldType, capacity: usize) -> Self {
        match t {
            FieldType::Int8 => Self::I8(Vec::with_capacity(capacity)),
            FieldType::Int32 => Self::I32(Vec::with_capacity(capacity)),
            FieldType::UInt8 => Self::U8(Vec::with_capacity(capacity)),
            FieldType::UInt16 => Self::U16(Vec::with_capacity(capacity)),
            FieldType::UInt32 => Self::U32(Vec::with_capacity(capacity)),
            FieldType::UInt64 => Self::U64(Vec::with_capacity(capacity)),
            FieldType::Float32 => Self::F32(Vec::with_capacity(capacity)),
            FieldType::Float64 => Self::F64(Vec::with_capacity(capacity)),
            FieldType::Time => Self::Time(Vec::with_capacity(capacity)),
            FieldType::Float32List(n) => Self::F32List(Vec::with_capacity(capacity * n), n),
        }
    }

    push_fn!(push_i8, I8, i8);
    push_fn!(push_i32, I32, i32);
    push_fn!(push_u8, U8, u8);
    push_fn!(push_u16, U16, u16);
    push_fn!(push_u32, U32, u32);
    push_fn!(push_u64, U64, u64);
    push_fn!(push_f32, F32, f32);
    push_fn!(push_f64, F64, f64);
    push_fn!(push_time, Time, i64);

    pub(crate) fn push_f32_list(&mut self, v: &[f32]) {
        if let Self::F32List(c, _) = self {
            c.extend_from_slice(v);
        }
    }

    /// Each value repeated `counts[i]` times (parent fields onto photon rows).
    pub(crate) fn repeated(&self, counts: &[u32]) -> Self {
        fn rep<T: Copy>(v: &[T], counts: &[u32]) -> Vec<T> {
            let total: usize = counts.iter().map(|c| *c as usize).sum();
            let mut out = Vec::with_capacity(total);
            for (x, n) in v.iter().zip(counts) {
                out.extend(std::iter::repeat_n(*x, *n as usize));
            }
            out
        }
        match self {
            Self::I8(v) => Self::I8(rep(v, counts)),
            Self::I32(v) => Self::I32(rep(v, counts)),
            Self::U8(v) => Self::U8(rep(v, counts)),
            Self::U16(v) => Self::U16(rep(v, counts)),
            Self::U32(v) => Self::U32(rep(v, counts)),
            Self::U64(v) => Self::U64(rep(v, counts)),
            Self::F32(v) => Self::F32(rep(v, counts)),
            Self::F64(v) => Self::F64(rep(v, counts)),
            Self::Time(v) => Self::Time(rep(v, counts)),
            Self::F32List(v, n) => {
                let mut out = Vec::new();
                for (chunk, c) in v.chunks(*n).zip(counts) {
                    for _ in 0..*c {
                        out.extend_from_slice(chunk);
                    }
                }
                Self::F32List(out, *n)
            }
        }
    }

    pub(crate) fn f64_values(&self) -> Option<&[f64]> {
        match self {
            Self::F64(v) => Some(v),
            _ => None,
        }
    }

    pub(crate) fn time_values(&self) -> Option<&[i64]> {
        match self {
            Self::Time(v) => Some(v),
            _ => None,
        }
    }

    /// The Arrow array (all values valid), emptying the buffer.
    pub(crate) fn take_array(&mut self) -> ArrayRef {
        match self {
            Self::I8(v) => Arc::new(PrimitiveArray::<Int8Type>::from(std::mem::take(v))),
            Self::I32(v) => Arc::new(PrimitiveArray::<Int32Type>::from(std::mem::take(v))),
            Self::U8(v) => Arc::new(PrimitiveArray::<UInt8Type>::from(std::mem::take(v))),
            Self::U16(v) => Arc::new(PrimitiveArray::<UInt16Type>::from(std::mem::take(v))),
            Self::U32(v) => Arc::new(PrimitiveArray::<UInt32Type>::from(std::mem::take(v))),
            Self::U64(v) => Arc::new(PrimitiveArray::<UInt64Type>::from(std::mem::take(v))),
            Self::F32(v) => Arc::new(PrimitiveArray::<Float32Type>::from(std::mem::take(v))),
            Self::F64(v) => Arc::new(PrimitiveArray::<Float64Type>::from(std::mem::take(v))),
            Self::Time(v) => Arc::new(PrimitiveArray::<TimestampNanosecondType>::from(
                std::mem::take(v),
            )),
            Self::F32List(v, n) => {
                let values = std::mem::take(v);
                let rows = values.len() / (*n).max(1);
                let mut b =
                    ListBuilder::with_capacity(Float32Builder::with_capacity(values.len()), rows);
                for chunk in values.chunks((*n).max(1)) {
                    b.values().append_slice(chunk);
                    b.append(true);
                }
                Arc::new(b.finish())
            }
        }
    }
}

/// 21-byte ISO WKB points (little-endian, type 1, x = longitude, y = latitude).
pub(crate) fn wkb_points(lon: &[f64], lat: &[f64]) -> ArrayRef {
    let mut b = BinaryBuilder::with_capacity(lon.len(), lon.len() * 21);
    let mut buf = [0u8; 21];
    buf[0] = 1;
    buf[1..5].copy_from_slice(&1u32.to_le_bytes());
    for (x, y) in lon.iter().zip(lat) {
        buf[5..13].copy_from_slice(&x.to_le_bytes());
        buf[13..21].copy_from_slice(&y.to_le_bytes());
        b.append_value(buf);
    }
    Arc::new(b.finish())
}
