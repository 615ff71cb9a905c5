//! Arrow record batches (ours, other writers', legacy layouts) to STAC Items.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type,
    UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, TimeUnit};
use serde_json::{Map, Number, Value};

use crate::datetime;
use crate::geom;
use crate::infer::{
    CORE_COLUMNS, DIGITS_KEY, JSON_KEY, NULLS_KEY, NUMBER_STYLE_KEY, PATCHES_COLUMN, STYLE_KEY,
    integral,
};
use crate::patches::{FooterPatches, RowMap};

/// How a file's columns are read.
#[derive(Debug, Clone, Default)]
pub(crate) struct DecodeOptions {
    /// The file is ours (field metadata says how nulls read back).
    pub(crate) ours: bool,
    /// `assets` is `{}` in every item (no column).
    pub(crate) empty_assets: bool,
    /// Top-level columns whose null cells are explicit `null`s.
    pub(crate) explicit_nulls: Vec<String>,
    /// The footer's patches (layout 2), and where the rows read lie in the file.
    pub(crate) patches: Option<std::sync::Arc<(FooterPatches, RowMap)>>,
}

fn number_f64(f: f64) -> Value {
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

fn explicit(f: &Field) -> bool {
    !f.metadata().is_empty() && f.metadata().get(NULLS_KEY).is_some_and(|v| v == "explicit")
}

fn unit_nanos(unit: TimeUnit) -> i128 {
    match unit {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    }
}

/// One cell; `None` = the key is absent.
fn cell(a: &dyn Array, i: usize, f: &Field, ours: bool) -> Result<Option<Value>, String> {
    if a.is_null(i) {
        return Ok((ours && explicit(f)).then_some(Value::Null));
    }
    value(a, i, f, ours).map(Some)
}

/// A non-null cell's value.
fn value(a: &dyn Array, i: usize, f: &Field, ours: bool) -> Result<Value, String> {
    Ok(match a.data_type() {
        DataType::Null => Value::Null,
        DataType::Boolean => Value::Bool(a.as_boolean().value(i)),
        DataType::Int8 => Value::from(a.as_primitive::<Int8Type>().value(i)),
        DataType::Int16 => Value::from(a.as_primitive::<Int16Type>().value(i)),
        DataType::Int32 => Value::from(a.as_primitive::<Int32Type>().value(i)),
        DataType::Int64 => Value::from(a.as_primitive::<Int64Type>().value(i)),
        DataType::UInt8 => Value::from(a.as_primitive::<UInt8Type>().value(i)),
        DataType::UInt16 => Value::from(a.as_primitive::<UInt16Type>().value(i)),
        DataType::UInt32 => Value::from(a.as_primitive::<UInt32Type>().value(i)),
        DataType::UInt64 => Value::from(a.as_primitive::<UInt64Type>().value(i)),
        DataType::Float16 => number_f64(f64::from(a.as_primitive::<Float16Type>().value(i))),
        DataType::Float32 => number_f64(f64::from(a.as_primitive::<Float32Type>().value(i))),
        DataType::Float64 => {
            let x = a.as_primitive::<Float64Type>().value(i);
            if integral(x)
                && !f.metadata().is_empty()
                && f.metadata()
                    .get(NUMBER_STYLE_KEY)
                    .is_some_and(|s| s == "integer")
            {
                // Exact: `integral` bounds it by 2^53.
                Value::from(x as i64)
            } else {
                number_f64(x)
            }
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let s = match a.data_type() {
                DataType::Utf8 => a.as_string::<i32>().value(i),
                DataType::LargeUtf8 => a.as_string::<i64>().value(i),
                _ => a.as_string_view().value(i),
            };
            if !f.metadata().is_empty() && f.metadata().contains_key(JSON_KEY) {
                serde_json::from_str(s).map_err(|e| format!("bad JSON text: {e}"))?
            } else {
                Value::String(s.to_owned())
            }
        }
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
            let b = match a.data_type() {
                DataType::Binary => a.as_binary::<i32>().value(i),
                DataType::LargeBinary => a.as_binary::<i64>().value(i),
                _ => a.as_binary_view().value(i),
            };
            geom::from_wkb(b)?
        }
        DataType::Timestamp(unit, _) => {
            let v = a
                .as_primitive_opt::<Int64Type>()
                .map(|p| p.value(i))
                .or_else(|| timestamp_value(a, i))
                .ok_or("unreadable timestamp")?;
            let digits = (!f.metadata().is_empty())
                .then(|| f.metadata().get(DIGITS_KEY))
                .flatten()
                .and_then(|d| d.parse().ok())
                .unwrap_or(0);
            let style = datetime::Style::from_name(
                (!f.metadata().is_empty())
                    .then(|| f.metadata().get(STYLE_KEY))
                    .flatten()
                    .map(String::as_str),
            );
            Value::String(datetime::format_styled(
                i128::from(v) * unit_nanos(*unit),
                digits,
                style,
            ))
        }
        DataType::Date32 => {
            let d = a.as_primitive::<arrow_array::types::Date32Type>().value(i);
            let s = datetime::format(i128::from(d) * 86_400 * 1_000_000_000, 0);
            Value::String(s.get(..10).unwrap_or(&s).to_owned())
        }
        DataType::Date64 => {
            let d = a.as_primitive::<arrow_array::types::Date64Type>().value(i);
            Value::String(datetime::format(i128::from(d) * 1_000_000, 0))
        }
        DataType::List(child) => {
            let l = a.as_list::<i32>();
            let o = l.value_offsets();
            let (start, end) = (o[i], o[i + 1]);
            list_range(l.values(), start as usize..end as usize, child, ours)?
        }
        DataType::LargeList(child) => {
            let l = a.as_list::<i64>();
            let o = l.value_offsets();
            let (start, end) = (o[i], o[i + 1]);
            list_range(
                l.values(),
                usize::try_from(start).unwrap_or(0)..usize::try_from(end).unwrap_or(0),
                child,
                ours,
            )?
        }
        DataType::FixedSizeList(child, _) => {
            let l = a.as_fixed_size_list();
            list(&l.value(i), child, ours)?
        }
        DataType::Struct(fields) => {
            let s = a.as_struct();
            let mut o = Map::with_capacity(fields.len());
            for (cf, col) in fields.iter().zip(s.columns()) {
                if let Some(v) = cell(col.as_ref(), i, cf, ours)? {
                    o.insert(cf.name().clone(), v);
                }
            }
            Value::Object(o)
        }
        DataType::Map(_, _) => {
            let m = a.as_map();
            let entries = m.value(i);
            let keys = entries.column(0);
            let values = entries.column(1);
            let fields = entries.fields();
            let mut o = Map::new();
            for j in 0..entries.len() {
                let k = match value(keys.as_ref(), j, &fields[0], ours)? {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                let v = cell(values.as_ref(), j, &fields[1], ours)?.unwrap_or(Value::Null);
                o.insert(k, v);
            }
            Value::Object(o)
        }
        DataType::Dictionary(_, _) => {
            let d = a.as_any_dictionary();
            let k = d.normalized_keys();
            let idx = *k.get(i).ok_or("dictionary key out of range")?;
            let vf = Field::new(f.name(), d.values().data_type().clone(), true)
                .with_metadata(f.metadata().clone());
            if d.values().is_null(idx) {
                Value::Null
            } else {
                value(d.values().as_ref(), idx, &vf, ours)?
            }
        }
        other => return Err(format!("unsupported Arrow type {other}")),
    })
}

fn timestamp_value(a: &dyn Array, i: usize) -> Option<i64> {
    use arrow_array::types::{
        TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
        TimestampSecondType,
    };
    a.as_primitive_opt::<TimestampSecondType>()
        .map(|p| p.value(i))
        .or_else(|| {
            a.as_primitive_opt::<TimestampMillisecondType>()
                .map(|p| p.value(i))
        })
        .or_else(|| {
            a.as_primitive_opt::<TimestampMicrosecondType>()
                .map(|p| p.value(i))
        })
        .or_else(|| {
            a.as_primitive_opt::<TimestampNanosecondType>()
                .map(|p| p.value(i))
        })
}

/// Elements `range` of a list's child array (no slicing, no allocation of arrays).
fn list_range(
    values: &ArrayRef,
    range: std::ops::Range<usize>,
    child: &Field,
    ours: bool,
) -> Result<Value, String> {
    let mut out = Vec::with_capacity(range.len());
    for j in range {
        if values.is_null(j) {
            out.push(Value::Null);
        } else {
            out.push(value(values.as_ref(), j, child, ours)?);
        }
    }
    Ok(Value::Array(out))
}

fn list(values: &ArrayRef, child: &Field, ours: bool) -> Result<Value, String> {
    let mut out = Vec::with_capacity(values.len());
    for j in 0..values.len() {
        if values.is_null(j) {
            out.push(Value::Null);
        } else {
            out.push(value(values.as_ref(), j, child, ours)?);
        }
    }
    Ok(Value::Array(out))
}

/// A bbox struct (any field order) or list as a JSON array.
fn bbox(a: &dyn Array, i: usize, f: &Field, ours: bool) -> Result<Option<Value>, String> {
    if a.is_null(i) {
        return Ok((ours && explicit(f)).then_some(Value::Null));
    }
    if let DataType::Struct(_) = a.data_type() {
        let s = a.as_struct();
        let mut out = Vec::with_capacity(6);
        for name in ["xmin", "ymin", "zmin", "xmax", "ymax", "zmax"] {
            if let Some(c) = s.column_by_name(name)
                && !c.is_null(i)
            {
                let cf = Field::new(name, c.data_type().clone(), true);
                out.push(value(c.as_ref(), i, &cf, ours)?);
            }
        }
        return Ok(Some(Value::Array(out)));
    }
    value(a, i, f, ours).map(Some)
}

fn unescape(seg: &str) -> String {
    seg.replace("~1", "/").replace("~0", "~")
}

/// Applies one patch: sets (or, with `None`, removes) the value at a JSON Pointer.
pub(crate) fn apply_patch(
    root: &mut Value,
    pointer: &str,
    value: Option<Value>,
) -> Result<(), String> {
    let segs: Vec<String> = pointer.split('/').skip(1).map(unescape).collect();
    let Some((last, parents)) = segs.split_last() else {
        return Err(format!("bad patch path \"{pointer}\""));
    };
    let mut cur = root;
    for s in parents {
        cur = match cur {
            Value::Object(o) => o
                .entry(s.clone())
                .or_insert_with(|| Value::Object(Map::new())),
            Value::Array(a) => {
                let i: usize = s
                    .parse()
                    .map_err(|_| format!("bad patch path \"{pointer}\""))?;
                a.get_mut(i)
                    .ok_or_else(|| format!("patch path \"{pointer}\" out of range"))?
            }
            _ => return Err(format!("patch path \"{pointer}\" goes through a scalar")),
        };
    }
    match (cur, value) {
        (Value::Object(o), Some(v)) => {
            o.insert(last.clone(), v);
        }
        (Value::Object(o), None) => {
            o.shift_remove(last);
        }
        (Value::Array(a), Some(v)) => {
            let i: usize = last
                .parse()
                .map_err(|_| format!("bad patch path \"{pointer}\""))?;
            if i < a.len() {
                a[i] = v;
            } else {
                a.push(v);
            }
        }
        (Value::Array(a), None) => {
            let i: usize = last
                .parse()
                .map_err(|_| format!("bad patch path \"{pointer}\""))?;
            if i < a.len() {
                a.remove(i);
            }
        }
        _ => return Err(format!("patch path \"{pointer}\" goes through a scalar")),
    }
    Ok(())
}

/// A top-level cell: the null convention may also come from the layout.
fn top_cell(
    a: &dyn Array,
    i: usize,
    f: &Field,
    opts: &DecodeOptions,
) -> Result<Option<Value>, String> {
    if a.is_null(i) {
        let explicit =
            opts.ours && (explicit(f) || opts.explicit_nulls.iter().any(|n| n == f.name()));
        return Ok(explicit.then_some(Value::Null));
    }
    value(a, i, f, opts.ours).map(Some)
}

/// Items of one batch (whose dictionary and GeoArrow columns were already
/// turned into plain values and WKB; its row 0 is the `first_row`-th row
/// read). Errors name the column and the row within the batch.
pub(crate) fn items(
    batch: &RecordBatch,
    opts: &DecodeOptions,
    rows: std::ops::Range<usize>,
    first_row: u64,
) -> Result<Vec<Value>, String> {
    let schema = batch.schema();
    let ours = opts.ours;
    let mut core: Vec<(usize, &str)> = Vec::new();
    let mut props: Vec<usize> = Vec::new();
    let mut patches: Option<usize> = None;
    for (i, f) in schema.fields().iter().enumerate() {
        let n = f.name().as_str();
        if n == PATCHES_COLUMN {
            patches = Some(i);
        } else if let Some(c) = CORE_COLUMNS.iter().find(|c| **c == n) {
            core.push((i, c));
        } else {
            props.push(i);
        }
    }
    let find = |name: &str| core.iter().find(|(_, n)| *n == name).map(|(i, _)| *i);
    let order = [
        "type",
        "stac_version",
        "stac_extensions",
        "id",
        "geometry",
        "bbox",
    ];
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut item = Map::new();
        let err =
            |i: usize, e: String| format!("column \"{}\", row {row}: {e}", schema.field(i).name());
        for name in order {
            match find(name) {
                Some(i) => {
                    let f = schema.field(i);
                    let col = batch.column(i).as_ref();
                    let v = if name == "bbox" {
                        bbox(col, row, f, ours)
                    } else if name == "geometry" && !ours && col.is_null(row) {
                        Ok(Some(Value::Null))
                    } else {
                        top_cell(col, row, f, opts)
                    }
                    .map_err(|e| err(i, e))?;
                    if let Some(v) = v {
                        item.insert(name.to_owned(), v);
                    }
                }
                None if name == "type" && !ours => {
                    item.insert("type".into(), Value::String("Feature".into()));
                }
                None if name == "geometry" && !ours => {
                    item.insert("geometry".into(), Value::Null);
                }
                None => {}
            }
        }
        let mut properties = Map::with_capacity(props.len());
        for &i in &props {
            let f = schema.field(i);
            let col = batch.column(i).as_ref();
            let v = if !ours && f.name() == "datetime" && col.is_null(row) {
                Some(Value::Null)
            } else {
                top_cell(col, row, f, opts).map_err(|e| err(i, e))?
            };
            if let Some(v) = v {
                properties.insert(f.name().clone(), v);
            }
        }
        item.insert("properties".into(), Value::Object(properties));
        for name in ["links", "assets", "collection"] {
            match find(name) {
                Some(i) => {
                    let f = schema.field(i);
                    if let Some(v) =
                        top_cell(batch.column(i).as_ref(), row, f, opts).map_err(|e| err(i, e))?
                    {
                        item.insert(name.to_owned(), v);
                    }
                }
                None if name == "assets" && (!ours || opts.empty_assets) => {
                    item.insert("assets".into(), Value::Object(Map::new()));
                }
                None if name == "links" && !ours => {
                    item.insert("links".into(), Value::Array(Vec::new()));
                }
                None => {}
            }
        }
        let mut item = Value::Object(item);
        if let Some(p) = patches {
            let col = batch.column(p);
            if !col.is_null(row) {
                let list = col
                    .as_list_opt::<i32>()
                    .ok_or("the patches column is not a list")?;
                let entries = list.value(row);
                let entries = entries
                    .as_struct_opt()
                    .ok_or("the patches column is not a list of structs")?;
                let paths = entries
                    .column(0)
                    .as_string_opt::<i32>()
                    .ok_or("bad patches column")?;
                let values = entries
                    .column(1)
                    .as_string_opt::<i32>()
                    .ok_or("bad patches column")?;
                for j in 0..entries.len() {
                    let v = if values.is_null(j) {
                        None
                    } else {
                        Some(
                            serde_json::from_str(values.value(j))
                                .map_err(|e| format!("row {row}: bad patch value: {e}"))?,
                        )
                    };
                    apply_patch(&mut item, paths.value(j), v)
                        .map_err(|e| format!("row {row}: {e}"))?;
                }
            }
        }
        if let Some(fp) = &opts.patches {
            let (patches, map) = fp.as_ref();
            let file_row = map.file_row(first_row + row as u64);
            for (_, pointer, text) in patches.of_row(file_row) {
                let v = match text {
                    Some(t) => Some(
                        serde_json::from_str(t)
                            .map_err(|e| format!("row {file_row}: bad patch value: {e}"))?,
                    ),
                    None => None,
                };
                apply_patch(&mut item, pointer, v).map_err(|e| format!("row {file_row}: {e}"))?;
            }
        }
        out.push(item);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::HashMap;

    use arrow_array::Float64Array;
    use arrow_schema::{DataType, Field};
    use serde_json::{Value, json};

    use super::value;
    use crate::infer::NUMBER_STYLE_KEY;

    #[test]
    fn integral_floats_print_bare_only_in_integer_style_columns() {
        let a = Float64Array::from(vec![3.0, -0.0, 0.5, 9_007_199_254_740_994.0, 1e300]);
        let old = Field::new("x", DataType::Float64, true);
        let bare = old.clone().with_metadata(HashMap::from([(
            NUMBER_STYLE_KEY.to_owned(),
            "integer".to_owned(),
        )]));
        let read = |f: &Field| -> Vec<String> {
            (0..a.len())
                .map(|i| value(&a, i, f, true).unwrap().to_string())
                .collect()
        };
        // Files without the key (written before it) read as they did.
        assert_eq!(
            read(&old),
            ["3.0", "-0.0", "0.5", "9007199254740994.0", "1e+300"]
        );
        assert_eq!(
            read(&bare),
            ["3", "-0.0", "0.5", "9007199254740994.0", "1e+300"]
        );
        assert_eq!(value(&a, 0, &bare, true).unwrap(), json!(3));
        assert!(matches!(value(&a, 0, &old, true).unwrap(), Value::Number(n) if n.is_f64()));
    }
}
