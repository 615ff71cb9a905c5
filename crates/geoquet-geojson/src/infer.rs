//! Property type inference over all features, and the Arrow builders that
//! follow the inferred types.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float64Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, ListArray, StructArray, new_null_array};
use arrow_buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, FieldRef, Fields};
use serde_json::Value;

/// The JSON null, for missing members.
static NULL: Value = Value::Null;

/// What is known about one property (or nested member) after seeing values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// Only nulls (or nothing) so far.
    Null,
    Bool,
    /// Integers that fit `i64`.
    Int,
    /// Numbers with a fraction, an exponent, or beyond `i64`.
    Float,
    Str,
    Object(Members),
    List(Box<Kind>),
    /// Values whose types conflict: kept as JSON text.
    Json,
}

/// Members of an object kind, in order of first appearance.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Members {
    names: Vec<String>,
    kinds: Vec<Kind>,
    index: HashMap<String, usize>,
}

impl Members {
    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }

    pub(crate) fn kinds(&self) -> &[Kind] {
        &self.kinds
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    fn push(&mut self, name: &str, kind: Kind) {
        self.index.insert(name.to_owned(), self.names.len());
        self.names.push(name.to_owned());
        self.kinds.push(kind);
    }

    /// The position of member `name`, added (as [`Kind::Null`]) if new.
    pub(crate) fn position_or_push(&mut self, name: &str) -> usize {
        match self.index.get(name) {
            Some(&i) => i,
            None => {
                self.push(name, Kind::Null);
                self.names.len() - 1
            }
        }
    }

    /// The kind of the member at `i`.
    pub(crate) fn kind_mut(&mut self, i: usize) -> Option<&mut Kind> {
        self.kinds.get_mut(i)
    }

    /// Adds what `other` learnt from later values, as if its values had
    /// been absorbed here one by one.
    pub(crate) fn merge(&mut self, other: Members) {
        for (name, kind) in other.names.into_iter().zip(other.kinds) {
            match self.index.get(&name).copied() {
                Some(i) => {
                    if let Some(k) = self.kinds.get_mut(i) {
                        k.merge(kind);
                    }
                }
                None => self.push(&name, kind),
            }
        }
    }

    /// Adds the members of one JSON object.
    pub(crate) fn absorb_object(&mut self, obj: &serde_json::Map<String, Value>) {
        for (name, value) in obj {
            match self.index.get(name).copied() {
                Some(i) => {
                    if let Some(k) = self.kinds.get_mut(i) {
                        k.absorb(value);
                    }
                }
                None => self.push(name, Kind::of(value)),
            }
        }
    }
}

impl Kind {
    /// The kind of one value.
    pub(crate) fn of(v: &Value) -> Kind {
        match v {
            Value::Null => Kind::Null,
            Value::Bool(_) => Kind::Bool,
            Value::Number(n) if n.is_i64() => Kind::Int,
            Value::Number(_) => Kind::Float,
            Value::String(_) => Kind::Str,
            Value::Array(items) => {
                let mut element = Kind::Null;
                for item in items {
                    element.absorb(item);
                    if element == Kind::Json {
                        // Elements of conflicting types: the whole array is JSON text.
                        return Kind::Json;
                    }
                }
                Kind::List(Box::new(element))
            }
            Value::Object(obj) => {
                let mut members = Members::default();
                members.absorb_object(obj);
                Kind::Object(members)
            }
        }
    }

    /// Widens this kind so that it also holds `v`.
    pub(crate) fn absorb(&mut self, v: &Value) {
        match (&mut *self, v) {
            (_, Value::Null) | (Kind::Json, _) => {}
            (Kind::Null, _) => *self = Kind::of(v),
            (Kind::Bool, Value::Bool(_))
            | (Kind::Float, Value::Number(_))
            | (Kind::Str, Value::String(_)) => {}
            (Kind::Int, Value::Number(n)) => {
                if !n.is_i64() {
                    *self = Kind::Float;
                }
            }
            (Kind::Object(members), Value::Object(obj)) => members.absorb_object(obj),
            (Kind::List(element), Value::Array(items)) => {
                for item in items {
                    element.absorb(item);
                    if **element == Kind::Json {
                        *self = Kind::Json;
                        return;
                    }
                }
            }
            _ => *self = Kind::Json,
        }
    }

    /// Widens this kind so that it also holds the values `other` was
    /// inferred from (the same as absorbing them one by one).
    pub(crate) fn merge(&mut self, other: Kind) {
        match (&mut *self, other) {
            (_, Kind::Null) | (Kind::Json, _) => {}
            (Kind::Null, other) => *self = other,
            (Kind::Bool, Kind::Bool)
            | (Kind::Str, Kind::Str)
            | (Kind::Int, Kind::Int)
            | (Kind::Float, Kind::Int | Kind::Float) => {}
            (Kind::Int, Kind::Float) => *self = Kind::Float,
            (Kind::Object(members), Kind::Object(more)) => members.merge(more),
            (Kind::List(element), Kind::List(more)) => {
                element.merge(*more);
                if **element == Kind::Json {
                    *self = Kind::Json;
                }
            }
            _ => *self = Kind::Json,
        }
    }

    /// The Arrow type of this kind. Null-only values become `Utf8` (all null),
    /// conflicts and empty objects become `Utf8` holding JSON text.
    pub(crate) fn data_type(&self) -> DataType {
        match self {
            Kind::Null | Kind::Str | Kind::Json => DataType::Utf8,
            Kind::Bool => DataType::Boolean,
            Kind::Int => DataType::Int64,
            Kind::Float => DataType::Float64,
            Kind::Object(m) if m.is_empty() => DataType::Utf8,
            Kind::Object(m) => DataType::Struct(struct_fields(m)),
            Kind::List(e) => DataType::List(Arc::new(Field::new_list_field(e.data_type(), true))),
        }
    }
}

fn struct_fields(m: &Members) -> Fields {
    m.names
        .iter()
        .zip(&m.kinds)
        .map(|(n, k)| Field::new(n, k.data_type(), true))
        .collect()
}

/// The feature id's kind: strings win over numbers, floats over integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) enum IdKind {
    /// No feature has a (non-null) id.
    #[default]
    Absent,
    Int,
    Float,
    /// Strings, or a mix; numbers and other values become their JSON text.
    Str,
}

impl IdKind {
    pub(crate) fn absorb(&mut self, v: &Value) {
        *self = match (*self, v) {
            (k, Value::Null) => k,
            (IdKind::Absent | IdKind::Int, Value::Number(n)) if n.is_i64() => IdKind::Int,
            (IdKind::Absent | IdKind::Int | IdKind::Float, Value::Number(_)) => IdKind::Float,
            _ => IdKind::Str,
        };
    }

    /// Widens this kind to hold the ids `other` was inferred from (the
    /// kinds are ordered: absent < integers < floats < strings).
    pub(crate) fn merge(&mut self, other: IdKind) {
        *self = (*self).max(other);
    }

    pub(crate) fn data_type(self) -> Option<DataType> {
        match self {
            IdKind::Absent => None,
            IdKind::Int => Some(DataType::Int64),
            IdKind::Float => Some(DataType::Float64),
            IdKind::Str => Some(DataType::Utf8),
        }
    }
}

const MISMATCH: &str = "a value does not have the type inferred in the first pass (did the input change while it was read?)";

/// A builder for one column (or nested member) of an inferred kind.
pub(crate) enum ColumnBuilder {
    Null(usize),
    Bool(BooleanBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
    /// Strings as they are; other values (for ids) as JSON text.
    Str(StringBuilder),
    /// Every non-null value as JSON text.
    Json(StringBuilder),
    Struct {
        fields: Fields,
        names: Vec<String>,
        children: Vec<ColumnBuilder>,
        valid: Vec<bool>,
    },
    List {
        field: FieldRef,
        child: Box<ColumnBuilder>,
        offsets: Vec<i32>,
        valid: Vec<bool>,
    },
}

impl ColumnBuilder {
    pub(crate) fn new(kind: &Kind) -> Self {
        match kind {
            Kind::Null => ColumnBuilder::Null(0),
            Kind::Bool => ColumnBuilder::Bool(BooleanBuilder::new()),
            Kind::Int => ColumnBuilder::Int(Int64Builder::new()),
            Kind::Float => ColumnBuilder::Float(Float64Builder::new()),
            Kind::Str => ColumnBuilder::Str(StringBuilder::new()),
            Kind::Json => ColumnBuilder::Json(StringBuilder::new()),
            Kind::Object(m) if m.is_empty() => ColumnBuilder::Json(StringBuilder::new()),
            Kind::Object(m) => ColumnBuilder::Struct {
                fields: struct_fields(m),
                names: m.names.clone(),
                children: m.kinds.iter().map(ColumnBuilder::new).collect(),
                valid: Vec::new(),
            },
            Kind::List(e) => ColumnBuilder::List {
                field: Arc::new(Field::new_list_field(e.data_type(), true)),
                child: Box::new(ColumnBuilder::new(e)),
                offsets: vec![0],
                valid: Vec::new(),
            },
        }
    }

    pub(crate) fn for_id(kind: IdKind) -> Self {
        match kind {
            IdKind::Int => ColumnBuilder::Int(Int64Builder::new()),
            IdKind::Float => ColumnBuilder::Float(Float64Builder::new()),
            IdKind::Absent | IdKind::Str => ColumnBuilder::Str(StringBuilder::new()),
        }
    }

    /// Appends one value (`null` for a missing one).
    pub(crate) fn append(&mut self, v: &Value) -> Result<(), String> {
        match (self, v) {
            (ColumnBuilder::Null(n), Value::Null) => *n += 1,
            (ColumnBuilder::Bool(b), Value::Null) => b.append_null(),
            (ColumnBuilder::Bool(b), Value::Bool(x)) => b.append_value(*x),
            (ColumnBuilder::Int(b), Value::Null) => b.append_null(),
            (ColumnBuilder::Int(b), Value::Number(n)) => {
                b.append_value(n.as_i64().ok_or(MISMATCH)?);
            }
            (ColumnBuilder::Float(b), Value::Null) => b.append_null(),
            (ColumnBuilder::Float(b), Value::Number(n)) => {
                b.append_value(n.as_f64().ok_or(MISMATCH)?);
            }
            (ColumnBuilder::Str(b) | ColumnBuilder::Json(b), Value::Null) => b.append_null(),
            (ColumnBuilder::Str(b), Value::String(s)) => {
                fits(b.values_slice().len(), s.len())?;
                b.append_value(s);
            }
            (ColumnBuilder::Str(b) | ColumnBuilder::Json(b), other) => {
                let text = other.to_string();
                fits(b.values_slice().len(), text.len())?;
                b.append_value(text);
            }
            (
                ColumnBuilder::Struct {
                    names,
                    children,
                    valid,
                    ..
                },
                value @ (Value::Null | Value::Object(_)),
            ) => {
                let obj = value.as_object();
                let mut matched = 0;
                for (name, child) in names.iter().zip(children.iter_mut()) {
                    let member = obj.and_then(|o| o.get(name));
                    matched += usize::from(member.is_some());
                    child.append(member.unwrap_or(&NULL))?;
                }
                if obj.is_some_and(|o| o.len() != matched) {
                    return Err(MISMATCH.to_owned());
                }
                valid.push(obj.is_some());
            }
            (
                ColumnBuilder::List {
                    child,
                    offsets,
                    valid,
                    ..
                },
                value @ (Value::Null | Value::Array(_)),
            ) => {
                let items = value.as_array().map_or(&[][..], Vec::as_slice);
                for item in items {
                    child.append(item)?;
                }
                let last = offsets.last().copied().unwrap_or(0);
                let next = i32::try_from(items.len())
                    .ok()
                    .and_then(|n| last.checked_add(n))
                    .ok_or("a list column has more than 2^31 elements in one batch; use a smaller batch size")?;
                offsets.push(next);
                valid.push(value.is_array());
            }
            _ => return Err(MISMATCH.to_owned()),
        }
        Ok(())
    }

    /// The array of everything appended so far; the builder starts over.
    pub(crate) fn finish(&mut self) -> Result<ArrayRef, String> {
        Ok(match self {
            ColumnBuilder::Null(n) => new_null_array(&DataType::Utf8, std::mem::take(n)),
            ColumnBuilder::Bool(b) => Arc::new(b.finish()),
            ColumnBuilder::Int(b) => Arc::new(b.finish()),
            ColumnBuilder::Float(b) => Arc::new(b.finish()),
            ColumnBuilder::Str(b) | ColumnBuilder::Json(b) => Arc::new(b.finish()),
            ColumnBuilder::Struct {
                fields,
                children,
                valid,
                ..
            } => {
                let arrays = children
                    .iter_mut()
                    .map(ColumnBuilder::finish)
                    .collect::<Result<Vec<_>, _>>()?;
                let nulls = nulls(std::mem::take(valid));
                Arc::new(
                    StructArray::try_new(fields.clone(), arrays, nulls)
                        .map_err(|e| e.to_string())?,
                )
            }
            ColumnBuilder::List {
                field,
                child,
                offsets,
                valid,
            } => {
                let values = child.finish()?;
                let offsets =
                    OffsetBuffer::new(ScalarBuffer::from(std::mem::replace(offsets, vec![0])));
                let nulls = nulls(std::mem::take(valid));
                Arc::new(
                    ListArray::try_new(field.clone(), offsets, values, nulls)
                        .map_err(|e| e.to_string())?,
                )
            }
        })
    }
}

/// Whether `more` bytes fit after `used` in an array with 32-bit offsets.
pub(crate) fn fits(used: usize, more: usize) -> Result<(), String> {
    match used.checked_add(more) {
        Some(total) if i32::try_from(total).is_ok() => Ok(()),
        _ => Err(format!(
            "a value of {more} bytes does not fit in one Arrow array (2 GiB at most); use a smaller batch size"
        )),
    }
}

fn nulls(valid: Vec<bool>) -> Option<NullBuffer> {
    if valid.iter().all(|&v| v) {
        None
    } else {
        Some(NullBuffer::from(valid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kind_of(values: &[Value]) -> Kind {
        let mut k = Kind::Null;
        for v in values {
            k.absorb(v);
        }
        k
    }

    #[test]
    fn widening() {
        assert_eq!(kind_of(&[json!(1), json!(null), json!(2)]), Kind::Int);
        assert_eq!(kind_of(&[json!(1), json!(2.5)]), Kind::Float);
        assert_eq!(kind_of(&[json!(u64::MAX)]), Kind::Float);
        assert_eq!(kind_of(&[json!(1), json!("1")]), Kind::Json);
        assert_eq!(kind_of(&[json!([1, "a"])]), Kind::Json);
        assert_eq!(
            kind_of(&[json!([]), json!([1])]),
            Kind::List(Box::new(Kind::Int))
        );
        assert_eq!(kind_of(&[json!({}), json!([])]), Kind::Json);
        assert_eq!(kind_of(&[json!(null)]).data_type(), DataType::Utf8);
    }

    #[test]
    fn objects_unify_members_in_first_seen_order() {
        let k = kind_of(&[json!({"b": 1}), json!({"a": "x", "b": 2.5})]);
        let Kind::Object(m) = &k else {
            panic!("{k:?}");
        };
        assert_eq!(m.names(), ["b", "a"]);
        assert_eq!(m.kinds(), [Kind::Float, Kind::Str]);
    }

    #[test]
    fn ids() {
        let mut id = IdKind::Absent;
        id.absorb(&json!(1));
        assert_eq!(id, IdKind::Int);
        id.absorb(&json!(1.5));
        assert_eq!(id, IdKind::Float);
        id.absorb(&json!("a"));
        assert_eq!(id, IdKind::Str);
        id.absorb(&json!(3));
        assert_eq!(id, IdKind::Str);
    }
}
