//! Uniform access to WKB stored as `Binary`, `LargeBinary` or `BinaryView`.

use arrow_array::cast::AsArray;
use arrow_array::{Array, BinaryArray, BinaryViewArray, GenericBinaryArray};
use arrow_schema::DataType;

use crate::error::{Error, Result};

/// A borrowed WKB column of any binary layout.
#[derive(Debug, Clone, Copy)]
pub enum WkbColumn<'a> {
    /// 32-bit offsets.
    Binary(&'a GenericBinaryArray<i32>),
    /// 64-bit offsets.
    Large(&'a GenericBinaryArray<i64>),
    /// Views.
    View(&'a BinaryViewArray),
}

/// Views an array as a WKB column, or says why it cannot be one.
pub fn wkb_values(array: &dyn Array) -> Result<WkbColumn<'_>> {
    match array.data_type() {
        DataType::Binary => Ok(WkbColumn::Binary(array.as_binary::<i32>())),
        DataType::LargeBinary => Ok(WkbColumn::Large(array.as_binary::<i64>())),
        DataType::BinaryView => Ok(WkbColumn::View(array.as_binary_view())),
        other => Err(Error::NotBinary {
            found: other.to_string(),
        }),
    }
}

impl<'a> WkbColumn<'a> {
    /// Rows.
    pub fn len(&self) -> usize {
        match self {
            WkbColumn::Binary(a) => a.len(),
            WkbColumn::Large(a) => a.len(),
            WkbColumn::View(a) => a.len(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes of a row, `None` when null (or out of range).
    pub fn value(&self, row: usize) -> Option<&'a [u8]> {
        if row >= self.len() {
            return None;
        }
        match self {
            WkbColumn::Binary(a) => a.is_valid(row).then(|| a.value(row)),
            WkbColumn::Large(a) => a.is_valid(row).then(|| a.value(row)),
            WkbColumn::View(a) => a.is_valid(row).then(|| a.value(row)),
        }
    }

    /// A `Binary` copy (no copy when it already is one).
    pub fn to_binary(&self) -> BinaryArray {
        match self {
            WkbColumn::Binary(a) => (*a).clone(),
            _ => (0..self.len()).map(|i| self.value(i)).collect(),
        }
    }
}
