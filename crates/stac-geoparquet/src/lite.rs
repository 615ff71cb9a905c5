//! A light JSON tree borrowing from its text: what the first pass (schema
//! inference) parses NDJSON lines into, much cheaper than `serde_json::Value`.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// A JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lite<'a> {
    Null,
    Bool(bool),
    I(i64),
    U(u64),
    F(f64),
    S(Cow<'a, str>),
    A(Vec<Lite<'a>>),
    O(Vec<(Cow<'a, str>, Lite<'a>)>),
}

impl Lite<'_> {
    /// The same value as a `serde_json::Value`.
    pub(crate) fn to_value(&self) -> Value {
        match self {
            Lite::Null => Value::Null,
            Lite::Bool(b) => Value::Bool(*b),
            Lite::I(i) => Value::from(*i),
            Lite::U(u) => Value::from(*u),
            Lite::F(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Lite::S(s) => Value::String(s.to_string()),
            Lite::A(a) => Value::Array(a.iter().map(Lite::to_value).collect()),
            Lite::O(o) => {
                let mut m = Map::with_capacity(o.len());
                for (k, v) in o {
                    m.insert(k.to_string(), v.to_value());
                }
                Value::Object(m)
            }
        }
    }
}

struct LiteVisitor;

impl<'de> Visitor<'de> for LiteVisitor {
    type Value = Lite<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Lite<'de>, E> {
        Ok(Lite::Null)
    }
    fn visit_none<E>(self) -> Result<Lite<'de>, E> {
        Ok(Lite::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Lite<'de>, E> {
        Ok(Lite::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Lite<'de>, E> {
        Ok(Lite::I(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Lite<'de>, E> {
        Ok(i64::try_from(v).map_or(Lite::U(v), Lite::I))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Lite<'de>, E> {
        Ok(Lite::F(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Lite<'de>, E> {
        Ok(Lite::S(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Lite<'de>, E> {
        Ok(Lite::S(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Lite<'de>, E> {
        Ok(Lite::S(Cow::Owned(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Lite<'de>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(4));
        while let Some(v) = seq.next_element::<Lite<'de>>()? {
            out.push(v);
        }
        Ok(Lite::A(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Lite<'de>, A::Error> {
        let mut out = Vec::with_capacity(map.size_hint().unwrap_or(8));
        while let Some(k) = map.next_key::<Key<'de>>()? {
            let v = map.next_value::<Lite<'de>>()?;
            out.push((k.0, v));
        }
        // Duplicate keys (serde_json keeps the last): left to the full parser.
        if duplicates(&out) {
            return Err(serde::de::Error::custom("duplicate key"));
        }
        Ok(Lite::O(out))
    }
}

fn duplicates(o: &[(Cow<'_, str>, Lite<'_>)]) -> bool {
    if o.len() <= 16 {
        return o
            .iter()
            .enumerate()
            .any(|(i, (k, _))| o[..i].iter().any(|(j, _)| j == k));
    }
    let mut keys: Vec<&str> = o.iter().map(|(k, _)| k.as_ref()).collect();
    keys.sort_unstable();
    keys.windows(2).any(|w| w[0] == w[1])
}

impl<'de> Deserialize<'de> for Lite<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LiteVisitor)
    }
}

/// An object key, borrowed when the text has no escapes.
struct Key<'a>(Cow<'a, str>);

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(v)))
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

/// What the column builders need of a JSON value: implemented by
/// `serde_json::Value` and by [`Lite`], with the same answers.
pub(crate) trait Json: Sized {
    fn is_null(&self) -> bool;
    fn bool(&self) -> Option<bool>;
    /// An integer that fits i64.
    fn int(&self) -> Option<i64>;
    /// An integer (not a float) that fits u64.
    fn uint(&self) -> Option<u64>;
    /// Any number, and whether it was written as a float.
    fn float(&self) -> Option<(f64, bool)>;
    fn str(&self) -> Option<&str>;
    fn array(&self) -> Option<&[Self]>;
    fn is_object(&self) -> bool;
    fn object_len(&self) -> usize;
    /// Member `key`; `hint` remembers where the last lookup ended, so that
    /// members looked up in their order are found at once.
    fn member(&self, key: &str, hint: &mut usize) -> Option<&Self>;
    /// Every member (the slow path).
    fn members(&self) -> Vec<(&str, &Self)>;
    /// Compact JSON text.
    fn json_text(&self) -> String;
    /// As a `serde_json::Value`.
    fn value(&self) -> std::borrow::Cow<'_, Value>;
}

impl Json for Value {
    fn is_null(&self) -> bool {
        Value::is_null(self)
    }
    fn bool(&self) -> Option<bool> {
        self.as_bool()
    }
    fn int(&self) -> Option<i64> {
        self.as_number()
            .filter(|n| n.is_i64())
            .and_then(serde_json::Number::as_i64)
    }
    fn uint(&self) -> Option<u64> {
        self.as_number()
            .filter(|n| !n.is_f64())
            .and_then(serde_json::Number::as_u64)
    }
    fn float(&self) -> Option<(f64, bool)> {
        let n = self.as_number()?;
        Some((n.as_f64()?, n.is_f64()))
    }
    fn str(&self) -> Option<&str> {
        self.as_str()
    }
    fn array(&self) -> Option<&[Value]> {
        self.as_array().map(Vec::as_slice)
    }
    fn is_object(&self) -> bool {
        Value::is_object(self)
    }
    fn object_len(&self) -> usize {
        self.as_object().map_or(0, Map::len)
    }
    fn member(&self, key: &str, _hint: &mut usize) -> Option<&Value> {
        self.as_object()?.get(key)
    }
    fn members(&self) -> Vec<(&str, &Value)> {
        self.as_object()
            .map(|o| o.iter().map(|(k, v)| (k.as_str(), v)).collect())
            .unwrap_or_default()
    }
    fn json_text(&self) -> String {
        self.to_string()
    }
    fn value(&self) -> std::borrow::Cow<'_, Value> {
        std::borrow::Cow::Borrowed(self)
    }
}

impl Json for Lite<'_> {
    fn is_null(&self) -> bool {
        matches!(self, Lite::Null)
    }
    fn bool(&self) -> Option<bool> {
        match self {
            Lite::Bool(b) => Some(*b),
            _ => None,
        }
    }
    fn int(&self) -> Option<i64> {
        match self {
            Lite::I(i) => Some(*i),
            _ => None,
        }
    }
    fn uint(&self) -> Option<u64> {
        match self {
            Lite::I(i) => u64::try_from(*i).ok(),
            Lite::U(u) => Some(*u),
            _ => None,
        }
    }
    fn float(&self) -> Option<(f64, bool)> {
        match self {
            Lite::I(i) => Some((*i as f64, false)),
            Lite::U(u) => Some((*u as f64, false)),
            Lite::F(f) => Some((*f, true)),
            _ => None,
        }
    }
    fn str(&self) -> Option<&str> {
        match self {
            Lite::S(s) => Some(s),
            _ => None,
        }
    }
    fn array(&self) -> Option<&[Self]> {
        match self {
            Lite::A(a) => Some(a),
            _ => None,
        }
    }
    fn is_object(&self) -> bool {
        matches!(self, Lite::O(_))
    }
    fn object_len(&self) -> usize {
        match self {
            Lite::O(o) => o.len(),
            _ => 0,
        }
    }
    fn member(&self, key: &str, hint: &mut usize) -> Option<&Self> {
        let Lite::O(o) = self else { return None };
        let n = o.len();
        for step in 0..n {
            let i = (*hint + step) % n;
            if o[i].0 == key {
                *hint = i + 1;
                return Some(&o[i].1);
            }
        }
        None
    }
    fn members(&self) -> Vec<(&str, &Self)> {
        match self {
            Lite::O(o) => o.iter().map(|(k, v)| (k.as_ref(), v)).collect(),
            _ => Vec::new(),
        }
    }
    fn json_text(&self) -> String {
        self.to_value().to_string()
    }
    fn value(&self) -> std::borrow::Cow<'_, Value> {
        std::borrow::Cow::Owned(self.to_value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_as_value() {
        let text = r#"{"a": [1, -2, 18446744073709551615, 1.5, "x\ny", null, true], "b\"": {}, "c": 1e-320}"#;
        let lite: Lite<'_> = serde_json::from_str(text).unwrap();
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!(lite.to_value(), value);
        assert!(serde_json::from_str::<Lite<'_>>(r#"{"a": 1, "b": {"c": 1, "c": 2}}"#).is_err());
    }
}
