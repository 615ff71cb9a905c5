//! Arrow values to JSON values, for GeoJSON properties and ids.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Decimal32Type, Decimal64Type, Decimal128Type, Decimal256Type,
    Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    Time32MillisecondType, Time32SecondType, Time64MicrosecondType, Time64NanosecondType,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrowPrimitiveType, OffsetSizeTrait};
use arrow_schema::{DataType, TimeUnit};
use serde_json::{Map, Value};

/// Whether [`json_value`] can convert values of this type; the reason when not.
/// Whether every value of the type has a JSON form; the type that has none if not.
pub(crate) fn check_supported(dt: &DataType) -> Result<(), DataType> {
    match dt {
        DataType::Null
        | DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float16
        | DataType::Float32
        | DataType::Float64
        | DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_)
        | DataType::Date32
        | DataType::Date64
        | DataType::Timestamp(_, _)
        | DataType::Time32(TimeUnit::Second | TimeUnit::Millisecond)
        | DataType::Time64(TimeUnit::Microsecond | TimeUnit::Nanosecond)
        | DataType::Decimal32(_, _)
        | DataType::Decimal64(_, _)
        | DataType::Decimal128(_, _)
        | DataType::Decimal256(_, _) => Ok(()),
        DataType::Struct(fields) => fields
            .iter()
            .try_for_each(|f| check_supported(f.data_type())),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            check_supported(f.data_type())
        }
        DataType::Map(entries, _) => check_supported(entries.data_type()),
        DataType::Dictionary(key, value)
            if matches!(
                key.as_ref(),
                DataType::Int8
                    | DataType::Int16
                    | DataType::Int32
                    | DataType::Int64
                    | DataType::UInt8
                    | DataType::UInt16
                    | DataType::UInt32
                    | DataType::UInt64
            ) =>
        {
            check_supported(value)
        }
        other => Err(other.clone()),
    }
}

fn prim<T: ArrowPrimitiveType>(array: &dyn Array, row: usize) -> Result<T::Native, String> {
    array
        .as_primitive_opt::<T>()
        .map(|a| a.value(row))
        .ok_or_else(|| format!("internal: not a {} array", T::DATA_TYPE))
}

/// An `f32` as the JSON number with the same shortest decimal form
/// (`0.1_f32` becomes `0.1`, not `0.10000000149011612`).
fn f32_value(v: f32) -> Value {
    if v.is_finite() {
        format!("{v}")
            .parse::<f64>()
            .map_or(Value::Null, Value::from)
    } else {
        Value::Null
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// Year, month, day of a count of days since 1970-01-01 (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    use chrono::Datelike;
    // 146 097 days are exactly 400 Gregorian years: chrono places the day within one
    // cycle from 1970, whole cycles add 400 years each (so any i64 day count works).
    let (cycles, within) = (days.div_euclid(146_097), days.rem_euclid(146_097));
    let day = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
        .zip(u64::try_from(within).ok())
        .and_then(|(epoch, n)| epoch.checked_add_days(chrono::Days::new(n)));
    match day {
        Some(d) => (i64::from(d.year()) + cycles * 400, d.month(), d.day()),
        // Unreachable: 1970 plus less than 400 years is within chrono's range.
        None => (1970 + cycles * 400, 1, 1),
    }
}

fn date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `HH:MM:SS` plus a fraction of `digits` digits when it is not zero.
fn time_of_day(seconds: i64, fraction: i64, digits: usize) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if fraction == 0 {
        format!("{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}.{fraction:0digits$}")
    }
}

fn per_second(unit: TimeUnit) -> (i64, usize) {
    match unit {
        TimeUnit::Second => (1, 0),
        TimeUnit::Millisecond => (1_000, 3),
        TimeUnit::Microsecond => (1_000_000, 6),
        TimeUnit::Nanosecond => (1_000_000_000, 9),
    }
}

/// ISO 8601: `2024-05-01T12:00:00.250Z` (with `Z` when the column has a time
/// zone, since Arrow stores such instants in UTC), without a zone otherwise.
fn timestamp(value: i64, unit: TimeUnit, utc: bool) -> String {
    let (per, digits) = per_second(unit);
    let seconds = value.div_euclid(per);
    let fraction = value.rem_euclid(per);
    let days = seconds.div_euclid(86_400);
    let in_day = seconds.rem_euclid(86_400);
    let zone = if utc { "Z" } else { "" };
    format!(
        "{}T{}{zone}",
        date(days),
        time_of_day(in_day, fraction, digits)
    )
}

fn time(value: i64, unit: TimeUnit) -> String {
    let (per, digits) = per_second(unit);
    time_of_day(
        value.div_euclid(per).rem_euclid(86_400),
        value.rem_euclid(per),
        digits,
    )
}

fn list<O: OffsetSizeTrait>(array: &dyn Array, row: usize) -> Result<Value, String> {
    let list = array
        .as_list_opt::<O>()
        .ok_or("internal: not a list array")?;
    let offsets = list.value_offsets();
    let (Some(start), Some(end)) = (offsets.get(row), offsets.get(row + 1)) else {
        return Err(format!("row {row} is outside the list offsets"));
    };
    (start.as_usize()..end.as_usize())
        .map(|i| json_value(list.values().as_ref(), i))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

fn dictionary_key(keys: &dyn Array, row: usize) -> Result<usize, String> {
    let key: Option<i128> = match keys.data_type() {
        DataType::Int8 => prim::<Int8Type>(keys, row).ok().map(i128::from),
        DataType::Int16 => prim::<Int16Type>(keys, row).ok().map(i128::from),
        DataType::Int32 => prim::<Int32Type>(keys, row).ok().map(i128::from),
        DataType::Int64 => prim::<Int64Type>(keys, row).ok().map(i128::from),
        DataType::UInt8 => prim::<UInt8Type>(keys, row).ok().map(i128::from),
        DataType::UInt16 => prim::<UInt16Type>(keys, row).ok().map(i128::from),
        DataType::UInt32 => prim::<UInt32Type>(keys, row).ok().map(i128::from),
        DataType::UInt64 => prim::<UInt64Type>(keys, row).ok().map(i128::from),
        _ => None,
    };
    key.and_then(|k| usize::try_from(k).ok())
        .ok_or_else(|| format!("invalid dictionary key at row {row}"))
}

/// The JSON value of one Arrow value (see the module docs for the mapping).
pub(crate) fn json_value(array: &dyn Array, row: usize) -> Result<Value, String> {
    if row >= array.len() {
        return Err(format!(
            "internal: row {row} of an array of {}",
            array.len()
        ));
    }
    if array.is_null(row) {
        return Ok(Value::Null);
    }
    Ok(match array.data_type() {
        DataType::Null => Value::Null,
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        DataType::Int8 => prim::<Int8Type>(array, row)?.into(),
        DataType::Int16 => prim::<Int16Type>(array, row)?.into(),
        DataType::Int32 => prim::<Int32Type>(array, row)?.into(),
        DataType::Int64 => prim::<Int64Type>(array, row)?.into(),
        DataType::UInt8 => prim::<UInt8Type>(array, row)?.into(),
        DataType::UInt16 => prim::<UInt16Type>(array, row)?.into(),
        DataType::UInt32 => prim::<UInt32Type>(array, row)?.into(),
        DataType::UInt64 => prim::<UInt64Type>(array, row)?.into(),
        DataType::Float16 => f32_value(prim::<Float16Type>(array, row)?.to_f32()),
        DataType::Float32 => f32_value(prim::<Float32Type>(array, row)?),
        // `Value::from` turns NaN and infinities into null.
        DataType::Float64 => Value::from(prim::<Float64Type>(array, row)?),
        DataType::Utf8 => array.as_string::<i32>().value(row).into(),
        DataType::LargeUtf8 => array.as_string::<i64>().value(row).into(),
        DataType::Utf8View => array.as_string_view().value(row).into(),
        DataType::Binary => hex(array.as_binary::<i32>().value(row)).into(),
        DataType::LargeBinary => hex(array.as_binary::<i64>().value(row)).into(),
        DataType::BinaryView => hex(array.as_binary_view().value(row)).into(),
        DataType::FixedSizeBinary(_) => hex(array.as_fixed_size_binary().value(row)).into(),
        DataType::Date32 => date(i64::from(prim::<Date32Type>(array, row)?)).into(),
        DataType::Date64 => date(prim::<Date64Type>(array, row)?.div_euclid(86_400_000)).into(),
        DataType::Timestamp(unit, tz) => {
            let v = match unit {
                TimeUnit::Second => prim::<TimestampSecondType>(array, row)?,
                TimeUnit::Millisecond => prim::<TimestampMillisecondType>(array, row)?,
                TimeUnit::Microsecond => prim::<TimestampMicrosecondType>(array, row)?,
                TimeUnit::Nanosecond => prim::<TimestampNanosecondType>(array, row)?,
            };
            timestamp(v, *unit, tz.is_some()).into()
        }
        DataType::Time32(TimeUnit::Second) => time(
            prim::<Time32SecondType>(array, row)?.into(),
            TimeUnit::Second,
        )
        .into(),
        DataType::Time32(TimeUnit::Millisecond) => time(
            prim::<Time32MillisecondType>(array, row)?.into(),
            TimeUnit::Millisecond,
        )
        .into(),
        DataType::Time64(TimeUnit::Microsecond) => time(
            prim::<Time64MicrosecondType>(array, row)?,
            TimeUnit::Microsecond,
        )
        .into(),
        DataType::Time64(TimeUnit::Nanosecond) => time(
            prim::<Time64NanosecondType>(array, row)?,
            TimeUnit::Nanosecond,
        )
        .into(),
        // Decimals keep every digit as a string (JSON numbers here are f64).
        DataType::Decimal32(_, _) => array
            .as_primitive::<Decimal32Type>()
            .value_as_string(row)
            .into(),
        DataType::Decimal64(_, _) => array
            .as_primitive::<Decimal64Type>()
            .value_as_string(row)
            .into(),
        DataType::Decimal128(_, _) => array
            .as_primitive::<Decimal128Type>()
            .value_as_string(row)
            .into(),
        DataType::Decimal256(_, _) => array
            .as_primitive::<Decimal256Type>()
            .value_as_string(row)
            .into(),
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let mut obj = Map::new();
            for (field, column) in fields.iter().zip(s.columns()) {
                obj.insert(field.name().clone(), json_value(column.as_ref(), row)?);
            }
            Value::Object(obj)
        }
        DataType::List(_) => list::<i32>(array, row)?,
        DataType::LargeList(_) => list::<i64>(array, row)?,
        DataType::FixedSizeList(_, _) => {
            let l = array.as_fixed_size_list();
            let start = usize::try_from(l.value_offset(row)).map_err(|e| e.to_string())?;
            let len = usize::try_from(l.value_length()).map_err(|e| e.to_string())?;
            (start..start.saturating_add(len))
                .map(|i| json_value(l.values().as_ref(), i))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)?
        }
        DataType::Map(_, _) => {
            let m = array.as_map();
            let offsets = m.value_offsets();
            let (Some(&start), Some(&end)) = (offsets.get(row), offsets.get(row + 1)) else {
                return Err(format!("row {row} is outside the map offsets"));
            };
            let mut obj = Map::new();
            let range = usize::try_from(start).unwrap_or(0)..usize::try_from(end).unwrap_or(0);
            for i in range {
                let key = match json_value(m.keys().as_ref(), i)? {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                obj.insert(key, json_value(m.values().as_ref(), i)?);
            }
            Value::Object(obj)
        }
        DataType::Dictionary(_, _) => {
            let d = array.as_any_dictionary();
            let key = dictionary_key(d.keys(), row)?;
            json_value(d.values().as_ref(), key)?
        }
        other => return Err(format!("type {other} has no GeoJSON mapping here")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(-1), "1969-12-31");
        assert_eq!(date(19_723), "2024-01-01");
        assert_eq!(date(11_016), "2000-02-29");
        // Across the 400-year cycles (146 097 days each).
        assert_eq!(date(146_097), "2370-01-01");
        assert_eq!(date(-146_097), "1570-01-01");
        assert_eq!(date(-135_140), "1600-01-01");
        assert_eq!(date(-719_528), "0000-01-01");
        assert_eq!(date(-719_529), "-001-12-31");
        assert_eq!(
            timestamp(1_704_067_200_250, TimeUnit::Millisecond, true),
            "2024-01-01T00:00:00.250Z"
        );
        assert_eq!(
            timestamp(-1, TimeUnit::Second, false),
            "1969-12-31T23:59:59"
        );
        assert_eq!(
            time(3_723_000_001, TimeUnit::Microsecond),
            "01:02:03.000001"
        );
        // Extremes do not overflow.
        let _ = timestamp(i64::MIN, TimeUnit::Second, true);
        let _ = timestamp(i64::MAX, TimeUnit::Nanosecond, true);
    }

    #[test]
    fn floats_and_bytes() {
        assert_eq!(f32_value(0.1), serde_json::json!(0.1));
        assert_eq!(f32_value(f32::NAN), Value::Null);
        assert_eq!(hex(&[0, 0xab, 0x1f]), "00ab1f");
    }
}
