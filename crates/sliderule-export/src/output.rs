//! The `output` request parameter: parsed with every key and alias the
//! v4.20 server accepts, SlideRule's lenient defaults kept, and every fallback
//! returned as a [`Warning`] (or, in strict mode, an error).

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The longest `path` SlideRule carries (`char[128]` with its NUL).
pub const MAX_PATH_BYTES: usize = 127;

/// The output file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Format {
    /// GeoParquet: `latitude`/`longitude` replaced by a WKB point `geometry`.
    #[default]
    GeoParquet,
    /// Plain Parquet (GeoParquet when `as_geo` is true).
    Parquet,
    /// Feather (Arrow IPC file) plus a `_metadata.json` sidecar.
    Feather,
    /// CSV plus a `_metadata.json` sidecar.
    Csv,
}

impl Format {
    /// The name SlideRule exports back (`geoparquet`, `parquet`, `feather`, `csv`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GeoParquet => "geoparquet",
            Self::Parquet => "parquet",
            Self::Feather => "feather",
            Self::Csv => "csv",
        }
    }

    /// The suffix SlideRule gives asset files of this format.
    #[must_use]
    pub fn suffix(self) -> &'static str {
        match self {
            Self::GeoParquet => ".geoparquet",
            Self::Parquet => ".parquet",
            Self::Feather => ".feather",
            Self::Csv => ".csv",
        }
    }
}

/// A secret string: never printed, never serialised.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    #[must_use]
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The value, for handing to the S3 client only.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Caller-supplied temporary AWS credentials. `Debug` shows only which parts
/// are present; there is no serialisation at all (request echoes always
/// write `"credentials":{}`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// `aws_access_key_id` / `accessKeyId` / `AccessKeyId`.
    pub access_key_id: Option<Secret>,
    /// `aws_secret_access_key` / `secretAccessKey` / `SecretAccessKey`.
    pub secret_access_key: Option<Secret>,
    /// `aws_session_token` / `sessionToken` / `Token`.
    pub session_token: Option<Secret>,
    /// `expiration` / `Expiration` (not secret, kept as given).
    pub expiration: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = |o: &Option<Secret>| if o.is_some() { "<redacted>" } else { "<none>" };
        f.debug_struct("Credentials")
            .field("access_key_id", &p(&self.access_key_id))
            .field("secret_access_key", &p(&self.secret_access_key))
            .field("session_token", &p(&self.session_token))
            .field("expiration", &self.expiration)
            .finish()
    }
}

impl Credentials {
    /// True when no part is given.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.access_key_id.is_none()
            && self.secret_access_key.is_none()
            && self.session_token.is_none()
            && self.expiration.is_none()
    }

    /// The secret strings (for scanning outputs in tests and audits).
    #[must_use]
    pub fn secrets(&self) -> Vec<&str> {
        [
            &self.access_key_id,
            &self.secret_access_key,
            &self.session_token,
        ]
        .into_iter()
        .flatten()
        .map(Secret::expose)
        .collect()
    }
}

/// The key spellings of each credential part (`CredentialStore.h`).
pub const ACCESS_KEY_ID_KEYS: &[&str] = &["aws_access_key_id", "accessKeyId", "AccessKeyId"];
/// Secret key spellings.
pub const SECRET_ACCESS_KEY_KEYS: &[&str] = &[
    "aws_secret_access_key",
    "secretAccessKey",
    "SecretAccessKey",
];
/// Session token spellings.
pub const SESSION_TOKEN_KEYS: &[&str] = &["aws_session_token", "sessionToken", "Token"];
/// Expiration spellings.
pub const EXPIRATION_KEYS: &[&str] = &["expiration", "Expiration"];

/// Where the file goes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Destination {
    /// No `path` and no `asset`: SlideRule streams native records and writes no file.
    None,
    /// `s3://bucket/key`: uploaded.
    S3 {
        /// The bucket.
        bucket: String,
        /// The key (no leading `/`).
        key: String,
    },
    /// `file://path`: written (atomically) at that local path.
    Local(String),
    /// Anything else: streamed to the client, which writes it under this name.
    Stream(String),
}

/// A lenient fallback: what SlideRule would only log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The key concerned (`output` for the parameter as a whole).
    pub key: String,
    /// What happened, e.g. `format is an invalid value: xyz`.
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Field {} using default value: {}",
            self.key, self.message
        )
    }
}

/// The parsed `output` parameter.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OutputParams {
    /// `path` as given (shorter than 128 bytes).
    pub path: String,
    /// The format after the `format` × `as_geo` rules.
    pub format: Format,
    /// `as_geo` after the rules (true exactly when GeoParquet is written).
    pub as_geo: bool,
    /// `open_on_complete` (client-side; echoed only).
    pub open_on_complete: bool,
    /// `with_checksum`: an `arrowrec.eof` record follows a streamed file.
    pub with_checksum: bool,
    /// `with_validation` (no effect on the p-series builder; echoed).
    pub with_validation: bool,
    /// `asset` (echoed; assets cannot be resolved outside SlideRule).
    pub asset: String,
    /// `region` (AWS region for S3).
    pub region: String,
    /// `endpoint`: `s3.<region>.amazonaws.com` or a full URL such as
    /// `http://127.0.0.1:9000`.
    pub endpoint: String,
    /// `credentials`.
    pub credentials: Credentials,
    /// `ancillary` column names.
    pub ancillary: Vec<String>,
    /// `fields` (x-series only; echoed).
    pub fields: Vec<String>,
}

/// How to parse.
///
/// ```
/// use sliderule_export::ParseOptions;
/// assert!(ParseOptions::default().with_strict(true).strict);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ParseOptions {
    /// Turn every warning into an error; default false (lenient, as the server).
    pub strict: bool,
}

impl ParseOptions {
    /// The same options, strict or lenient.
    #[must_use]
    pub fn with_strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }
}

/// Result of [`OutputParams::parse`]: the parameters and the warnings.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The parameters.
    pub params: OutputParams,
    /// Every fallback taken, in key order.
    pub warnings: Vec<Warning>,
}

struct Ctx {
    strict: bool,
    warnings: Vec<Warning>,
}

impl Ctx {
    fn warn(&mut self, key: &str, message: impl Into<String>) -> Result<()> {
        let message = message.into();
        if self.strict {
            return Err(Error::Strict {
                key: key.to_owned(),
                message,
            });
        }
        self.warnings.push(Warning {
            key: key.to_owned(),
            message,
        });
        Ok(())
    }

    fn boolean(&mut self, obj: &Map<String, Value>, key: &str) -> Result<bool> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => {
                self.warn(key, format!("{key} is not a boolean: {}", kind(other)))?;
                Ok(false)
            }
        }
    }

    fn string(&mut self, obj: &Map<String, Value>, key: &str) -> Result<String> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => {
                self.warn(key, format!("{key} is not a string: {}", kind(other)))?;
                Ok(String::new())
            }
        }
    }

    fn strings(&mut self, obj: &Map<String, Value>, key: &str) -> Result<Vec<String>> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(a)) => {
                let mut out = Vec::with_capacity(a.len());
                for (i, v) in a.iter().enumerate() {
                    match v {
                        Value::String(s) => out.push(s.clone()),
                        other => {
                            self.warn(key, format!("{key}[{i}] is not a string: {}", kind(other)))?;
                            return Ok(Vec::new());
                        }
                    }
                }
                Ok(out)
            }
            Some(other) => {
                self.warn(key, format!("{key} is not a list: {}", kind(other)))?;
                Ok(Vec::new())
            }
        }
    }
}

/// The kind of a JSON value, for messages (never the value itself, which
/// could be a secret pasted into the wrong key).
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

const KNOWN_KEYS: &[&str] = &[
    "path",
    "format",
    "open_on_complete",
    "as_geo",
    "with_checksum",
    "with_validation",
    "asset",
    "region",
    "endpoint",
    "credentials",
    "ancillary",
    "fields",
    "with_openapi",
];

impl std::str::FromStr for OutputParams {
    type Err = Error;

    /// Parses the `output` JSON strictly: a fallback that
    /// [`OutputParams::parse`] would return as a [`Warning`] is an error.
    /// (No `Display`: the credentials are never printed.)
    ///
    /// ```
    /// use sliderule_export::output::{Format, OutputParams};
    /// let p: OutputParams = r#"{"path": "out.parquet", "format": "feather"}"#.parse()?;
    /// assert_eq!(p.format, Format::Feather);
    /// assert!(r#"{"path": "x", "format": "xyz"}"#.parse::<OutputParams>().is_err());
    /// # Ok::<(), sliderule_export::Error>(())
    /// ```
    fn from_str(json: &str) -> Result<Self> {
        Self::parse(json, ParseOptions::default().with_strict(true)).map(|p| p.params)
    }
}

impl OutputParams {
    /// Parses the `output` JSON (the object itself, or `{"output": {...}}`).
    ///
    /// ```
    /// use sliderule_export::output::{OutputParams, Format, Destination, ParseOptions};
    /// let p = OutputParams::parse(
    ///     r#"{"path": "out.parquet", "format": "parquet", "as_geo": true}"#,
    ///     ParseOptions::default(),
    /// )?;
    /// assert_eq!(p.params.format, Format::GeoParquet);
    /// assert_eq!(p.params.destination()?, Destination::Stream("out.parquet".into()));
    ///
    /// // Lenient: an unknown format falls back to GeoParquet, with a warning ...
    /// let p = OutputParams::parse(r#"{"path": "x", "format": "xyz"}"#, ParseOptions::default())?;
    /// assert_eq!(p.params.format, Format::GeoParquet);
    /// assert_eq!(p.warnings[0].to_string(), "Field format using default value: format is an invalid value: xyz");
    /// // ... which strict mode refuses.
    /// assert!(OutputParams::parse(r#"{"path": "x", "format": "xyz"}"#, ParseOptions::default().with_strict(true)).is_err());
    /// # Ok::<(), sliderule_export::Error>(())
    /// ```
    pub fn parse(json: &str, options: ParseOptions) -> Result<Parsed> {
        let value: Value = serde_json::from_str(json).map_err(Error::OutputNotJson)?;
        Self::from_value(&value, options)
    }

    /// As [`OutputParams::parse`], from a parsed value.
    pub fn from_value(value: &Value, options: ParseOptions) -> Result<Parsed> {
        let obj = match value {
            Value::Object(o) => match o.get("output") {
                Some(Value::Object(inner)) if !o.contains_key("path") => inner,
                _ => o,
            },
            other => {
                return Err(Error::OutputNotObject { found: kind(other) });
            }
        };
        let mut cx = Ctx {
            strict: options.strict,
            warnings: Vec::new(),
        };
        for key in obj.keys() {
            if !KNOWN_KEYS.contains(&key.as_str()) {
                cx.warn(key, format!("unknown output parameter {key}, ignored"))?;
            }
        }
        let path = cx.string(obj, "path")?;
        if path.len() > MAX_PATH_BYTES {
            return Err(Error::PathTooLong { len: path.len() });
        }
        let mut format = match obj.get("format") {
            None | Some(Value::Null) => Format::GeoParquet,
            Some(Value::String(s)) => match s.as_str() {
                "geoparquet" => Format::GeoParquet,
                "parquet" => Format::Parquet,
                "feather" => Format::Feather,
                "csv" => Format::Csv,
                "h5" | "las" | "laz" => return Err(Error::UnsupportedFormat { format: s.clone() }),
                other => {
                    cx.warn("format", format!("format is an invalid value: {other}"))?;
                    Format::GeoParquet
                }
            },
            Some(Value::Number(n)) => match n.as_i64() {
                Some(1) => Format::Feather,
                Some(2) => Format::Parquet,
                Some(3) => Format::GeoParquet,
                Some(4) => Format::Csv,
                Some(5) => {
                    return Err(Error::UnsupportedFormat {
                        format: "h5".into(),
                    });
                }
                Some(6) => {
                    return Err(Error::UnsupportedFormat {
                        format: "las".into(),
                    });
                }
                Some(7) => {
                    return Err(Error::UnsupportedFormat {
                        format: "laz".into(),
                    });
                }
                _ => {
                    cx.warn("format", format!("format is an invalid value: {n}"))?;
                    Format::GeoParquet
                }
            },
            Some(other) => {
                cx.warn(
                    "format",
                    format!("format is an invalid value: {}", kind(other)),
                )?;
                Format::GeoParquet
            }
        };
        let open_on_complete = cx.boolean(obj, "open_on_complete")?;
        let mut as_geo = cx.boolean(obj, "as_geo")?;
        match format {
            Format::Parquet if as_geo => format = Format::GeoParquet,
            Format::GeoParquet => as_geo = true,
            Format::Feather | Format::Csv if as_geo => {
                cx.warn(
                    "as_geo",
                    format!(
                        "as_geo is ignored for format {}: it has no geometry",
                        format.as_str()
                    ),
                )?;
                as_geo = false;
            }
            _ => {}
        }
        let with_checksum = cx.boolean(obj, "with_checksum")?;
        let with_validation = cx.boolean(obj, "with_validation")?;
        let _ = cx.boolean(obj, "with_openapi")?;
        let asset = cx.string(obj, "asset")?;
        let region = cx.string(obj, "region")?;
        let endpoint = cx.string(obj, "endpoint")?;
        let ancillary = cx.strings(obj, "ancillary")?;
        let fields = cx.strings(obj, "fields")?;
        let credentials = parse_credentials(&mut cx, obj.get("credentials"))?;
        if path.is_empty() && asset.is_empty() {
            cx.warn("output", "Unable to determine output path")?;
        }
        if !asset.is_empty() {
            cx.warn("asset", format!("asset {asset} cannot be resolved outside a SlideRule server; path is used as given"))?;
        }
        let params = Self {
            path,
            format,
            as_geo,
            open_on_complete,
            with_checksum,
            with_validation,
            asset,
            region,
            endpoint,
            credentials,
            ancillary,
            fields,
        };
        // Destination errors are errors in every mode.
        let dest = params.destination()?;
        if let Destination::S3 { .. } = dest {
            params.s3_endpoint()?;
        }
        Ok(Parsed {
            params,
            warnings: cx.warnings,
        })
    }

    /// Where the output goes, from `path`.
    pub fn destination(&self) -> Result<Destination> {
        let path = self.path.as_str();
        if path.is_empty() {
            return Ok(Destination::None);
        }
        if let Some(rest) = path.strip_prefix("s3://") {
            let (bucket, key) = rest.split_once('/').ok_or_else(|| Error::InvalidS3Url {
                url: path.to_owned(),
            })?;
            let key = key.strip_prefix('/').unwrap_or(key);
            if bucket.is_empty() || key.is_empty() || key.ends_with('/') {
                return Err(Error::InvalidS3Url {
                    url: path.to_owned(),
                });
            }
            return Ok(Destination::S3 {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
            });
        }
        if let Some(local) = path.strip_prefix("file://") {
            return Ok(Destination::Local(local.to_owned()));
        }
        Ok(Destination::Stream(path.to_owned()))
    }

    /// `(endpoint URL, region)` for an S3 upload: `endpoint` as a URL
    /// (`https://` added when it has no scheme), else
    /// `https://s3.<region>.amazonaws.com`; the region from `region`, else
    /// parsed from `s3.<region>.…`, else `us-east-1` for custom endpoints.
    pub fn s3_endpoint(&self) -> Result<(String, String)> {
        if self.region.is_empty() && self.endpoint.is_empty() {
            return Err(Error::MissingRegion {
                url: self.path.clone(),
            });
        }
        if self.endpoint.is_empty() {
            return Ok((
                format!("https://s3.{}.amazonaws.com", self.region),
                self.region.clone(),
            ));
        }
        let url = if self.endpoint.contains("://") {
            self.endpoint.trim_end_matches('/').to_owned()
        } else {
            format!("https://{}", self.endpoint.trim_end_matches('/'))
        };
        let region = if self.region.is_empty() {
            let host = url.split("://").nth(1).unwrap_or_default();
            let mut parts = host.split('.');
            match (parts.next(), parts.next()) {
                (Some("s3"), Some(r)) if !r.is_empty() && host.matches('.').count() >= 2 => {
                    r.to_owned()
                }
                _ => "us-east-1".to_owned(),
            }
        } else {
            self.region.clone()
        };
        Ok((url, region))
    }

    /// The parameters as SlideRule echoes them into the file metadata
    /// (`OutputFields::toJson`), credentials written as `{}`.
    #[must_use]
    pub fn to_echo_json(&self) -> Value {
        let mut m = Map::new();
        m.insert(
            "open_on_complete".into(),
            Value::Bool(self.open_on_complete),
        );
        m.insert("with_validation".into(), Value::Bool(self.with_validation));
        m.insert("format".into(), Value::String(self.format.as_str().into()));
        m.insert("with_checksum".into(), Value::Bool(self.with_checksum));
        m.insert("asset".into(), Value::String(self.asset.clone()));
        m.insert("region".into(), Value::String(self.region.clone()));
        m.insert("path".into(), Value::String(self.path.clone()));
        m.insert("credentials".into(), Value::Object(Map::new()));
        m.insert("as_geo".into(), Value::Bool(self.as_geo));
        m.insert(
            "ancillary".into(),
            Value::Array(self.ancillary.iter().cloned().map(Value::String).collect()),
        );
        Value::Object(m)
    }
}

fn parse_credentials(cx: &mut Ctx, v: Option<&Value>) -> Result<Credentials> {
    let obj = match v {
        None | Some(Value::Null) => return Ok(Credentials::default()),
        Some(Value::Object(o)) => o,
        Some(other) => {
            cx.warn(
                "credentials",
                format!("credentials is not an object: {}", kind(other)),
            )?;
            return Ok(Credentials::default());
        }
    };
    let mut pick = |keys: &[&str], what: &str| -> Result<Option<String>> {
        for k in keys {
            match obj.get(*k) {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) => return Ok(Some(s.clone())),
                Some(other) => {
                    cx.warn(
                        "credentials",
                        format!("credentials.{k} ({what}) is not a string: {}", kind(other)),
                    )?;
                }
            }
        }
        Ok(None)
    };
    let access_key_id = pick(ACCESS_KEY_ID_KEYS, "access key id")?.map(Secret);
    let secret_access_key = pick(SECRET_ACCESS_KEY_KEYS, "secret access key")?.map(Secret);
    let session_token = pick(SESSION_TOKEN_KEYS, "session token")?.map(Secret);
    let expiration = pick(EXPIRATION_KEYS, "expiration")?;
    for k in obj.keys() {
        let known = [
            ACCESS_KEY_ID_KEYS,
            SECRET_ACCESS_KEY_KEYS,
            SESSION_TOKEN_KEYS,
            EXPIRATION_KEYS,
        ]
        .iter()
        .any(|ks| ks.contains(&k.as_str()));
        if !known {
            cx.warn(
                "credentials",
                format!("unknown credentials key {k}, ignored"),
            )?;
        }
    }
    Ok(Credentials {
        access_key_id,
        secret_access_key,
        session_token,
        expiration,
    })
}

/// Every key, at any depth, that names a credential part or a credentials object.
fn is_credential_key(k: &str) -> bool {
    k == "credentials"
        || [
            ACCESS_KEY_ID_KEYS,
            SECRET_ACCESS_KEY_KEYS,
            SESSION_TOKEN_KEYS,
        ]
        .iter()
        .any(|ks| ks.contains(&k))
}

/// Removes credentials from a request before it is echoed: every
/// `credentials` object becomes `{}`, every stray key-id/secret/token key is
/// dropped. Returns whether anything was removed.
///
/// ```
/// use sliderule_export::output::redact_request;
/// let mut v = serde_json::json!({"output": {"path": "s3://b/k", "credentials": {"aws_secret_access_key": "S"}}});
/// assert!(redact_request(&mut v));
/// assert_eq!(v.to_string(), r#"{"output":{"path":"s3://b/k","credentials":{}}}"#);
/// ```
pub fn redact_request(v: &mut Value) -> bool {
    let mut changed = false;
    match v {
        Value::Object(m) => {
            let keys: Vec<String> = m.keys().filter(|k| is_credential_key(k)).cloned().collect();
            for k in keys {
                if k == "credentials" {
                    if m.get(&k)
                        .is_some_and(|c| c.as_object().is_none_or(|o| !o.is_empty()))
                    {
                        m.insert(k, Value::Object(Map::new()));
                        changed = true;
                    }
                } else {
                    m.remove(&k);
                    changed = true;
                }
            }
            for child in m.values_mut() {
                changed |= redact_request(child);
            }
        }
        Value::Array(a) => {
            for child in a {
                changed |= redact_request(child);
            }
        }
        _ => {}
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Parsed> {
        OutputParams::parse(s, ParseOptions::default())
    }

    #[test]
    fn format_and_as_geo_rules() -> Result<()> {
        let f = |s: &str| parse(s).map(|p| (p.params.format, p.params.as_geo));
        assert_eq!(f(r#"{"path":"a"}"#)?, (Format::GeoParquet, true));
        assert_eq!(
            f(r#"{"path":"a","format":"parquet"}"#)?,
            (Format::Parquet, false)
        );
        assert_eq!(
            f(r#"{"path":"a","format":"parquet","as_geo":true}"#)?,
            (Format::GeoParquet, true)
        );
        assert_eq!(
            f(r#"{"path":"a","format":"geoparquet","as_geo":false}"#)?,
            (Format::GeoParquet, true)
        );
        assert_eq!(
            f(r#"{"path":"a","format":"feather"}"#)?,
            (Format::Feather, false)
        );
        assert_eq!(f(r#"{"path":"a","format":4}"#)?, (Format::Csv, false));
        assert_eq!(
            f(r#"{"path":"a","format":"native"}"#)?,
            (Format::GeoParquet, true)
        );
        assert!(matches!(
            f(r#"{"path":"a","format":"h5"}"#),
            Err(Error::UnsupportedFormat { .. })
        ));
        Ok(())
    }

    #[test]
    fn every_credential_spelling() -> Result<()> {
        for (k, s, t, e) in [
            (
                "aws_access_key_id",
                "aws_secret_access_key",
                "aws_session_token",
                "expiration",
            ),
            (
                "accessKeyId",
                "secretAccessKey",
                "sessionToken",
                "Expiration",
            ),
            ("AccessKeyId", "SecretAccessKey", "Token", "expiration"),
        ] {
            let json = format!(
                r#"{{"path":"s3://b/k.parquet","region":"us-west-2","credentials":{{"{k}":"AK","{s}":"SK","{t}":"TK","{e}":"2030-01-01T00:00:00Z"}}}}"#
            );
            let p = parse(&json)?;
            assert!(p.warnings.is_empty(), "{:?}", p.warnings);
            let c = &p.params.credentials;
            assert_eq!(c.secrets(), vec!["AK", "SK", "TK"]);
            assert_eq!(c.expiration.as_deref(), Some("2030-01-01T00:00:00Z"));
            let dbg = format!("{:?}", p.params);
            assert!(
                !dbg.contains("AK") && !dbg.contains("SK") && !dbg.contains("TK"),
                "{dbg}"
            );
        }
        Ok(())
    }

    #[test]
    fn destinations_and_their_errors() -> Result<()> {
        let d = |s: &str| parse(s).and_then(|p| p.params.destination());
        assert_eq!(
            d(r#"{"path":"s3://bucket//dir/k.parquet","region":"us-west-2"}"#)?,
            Destination::S3 {
                bucket: "bucket".into(),
                key: "dir/k.parquet".into()
            }
        );
        assert_eq!(
            d(r#"{"path":"file:///tmp/x.parquet"}"#)?,
            Destination::Local("/tmp/x.parquet".into())
        );
        assert_eq!(d(r#"{"format":"parquet"}"#)?, Destination::None);
        assert!(matches!(
            d(r#"{"path":"s3://bucket","region":"r"}"#),
            Err(Error::InvalidS3Url { .. })
        ));
        assert!(matches!(
            d(r#"{"path":"s3:///k","region":"r"}"#),
            Err(Error::InvalidS3Url { .. })
        ));
        assert!(matches!(
            d(r#"{"path":"s3://b/k"}"#),
            Err(Error::MissingRegion { .. })
        ));
        let long = format!(r#"{{"path":"{}"}}"#, "a".repeat(128));
        assert!(matches!(d(&long), Err(Error::PathTooLong { len: 128 })));
        let ok = format!(r#"{{"path":"{}"}}"#, "a".repeat(127));
        assert!(d(&ok).is_ok());
        Ok(())
    }

    #[test]
    fn endpoints() -> Result<()> {
        let e = |s: &str| parse(s).and_then(|p| p.params.s3_endpoint());
        assert_eq!(
            e(r#"{"path":"s3://b/k","region":"us-west-2"}"#)?,
            (
                "https://s3.us-west-2.amazonaws.com".into(),
                "us-west-2".into()
            )
        );
        assert_eq!(
            e(r#"{"path":"s3://b/k","endpoint":"s3.eu-north-1.amazonaws.com"}"#)?,
            (
                "https://s3.eu-north-1.amazonaws.com".into(),
                "eu-north-1".into()
            )
        );
        assert_eq!(
            e(r#"{"path":"s3://b/k","endpoint":"http://127.0.0.1:9000/"}"#)?,
            ("http://127.0.0.1:9000".into(), "us-east-1".into())
        );
        Ok(())
    }

    #[test]
    fn lenient_warnings_become_strict_errors() -> Result<()> {
        let json =
            r#"{"path":"a","as_geo":"yes","colour":1,"credentials":{"aws_secret_access_key":7}}"#;
        let p = parse(json)?;
        let keys: Vec<&str> = p.warnings.iter().map(|w| w.key.as_str()).collect();
        assert_eq!(keys, vec!["colour", "as_geo", "credentials"]);
        assert!(matches!(
            OutputParams::parse(json, ParseOptions { strict: true }),
            Err(Error::Strict { .. })
        ));
        let p = parse(r#"{"format":"parquet"}"#)?;
        assert_eq!(
            p.warnings[0].to_string(),
            "Field output using default value: Unable to determine output path"
        );
        assert!(matches!(
            parse("[1]"),
            Err(Error::OutputNotObject { found: "a list" })
        ));
        assert!(matches!(parse("{"), Err(Error::OutputNotJson(_))));
        Ok(())
    }

    #[test]
    fn echo_never_has_credentials() -> Result<()> {
        let p = parse(
            r#"{"path":"s3://b/k","region":"r","credentials":{"aws_access_key_id":"AKIDSECRET"}}"#,
        )?;
        let s = p.params.to_echo_json().to_string();
        assert!(
            s.contains(r#""credentials":{}"#) && !s.contains("AKIDSECRET"),
            "{s}"
        );
        Ok(())
    }
}
