//! Where items come from: Item / ItemCollection / FeatureCollection / JSON
//! array files, NDJSON, and static catalogs (Catalog or Collection JSON whose
//! `item` and `child` links are followed). Every input is streamed: one item
//! is in memory at a time (plus, for a document, its members other than
//! `features`).

use std::collections::HashSet;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// An input of items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A local file: an Item, an ItemCollection / FeatureCollection, a JSON
    /// array of Items, NDJSON (one Item per line), or a Catalog / Collection
    /// whose links are followed; or a directory, whose `.json`, `.ndjson`
    /// and `.geojson` files at any depth are read in path order (see
    /// [`files_below`]).
    Path(PathBuf),
}

/// What a visit of the sources sees.
pub(crate) trait Sink {
    /// One item; `source` and `number` locate it for messages.
    fn item(&mut self, item: Map<String, Value>, source: &str, number: u64) -> Result<()>;
    /// A STAC Collection met while following a catalog.
    fn collection(&mut self, collection: Map<String, Value>) -> Result<()>;
    /// One line of NDJSON: `Ok(true)` if the sink took it as an Item,
    /// `Ok(false)` to have it parsed and dispatched as usual.
    fn item_line(&mut self, _line: &str, _source: &str, _number: u64) -> Result<bool> {
        Ok(false)
    }
}

fn json_error(source: &str, item: Option<u64>, e: serde_json::Error) -> Error {
    Error::Json {
        path: source.into(),
        item,
        source: e,
    }
}

fn not_stac(source: &str, item: Option<u64>, expected: &'static str, found: String) -> Error {
    Error::NotStac {
        path: source.into(),
        item,
        expected,
        found,
    }
}

/// A JSON value's kind, for messages.
fn kind(v: &Value) -> String {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
    .to_owned()
}

struct Walker<'a, S: Sink> {
    sink: &'a mut S,
    visited: HashSet<PathBuf>,
    /// An error raised inside a serde visitor, kept with its type.
    pending: Option<Error>,
}

/// Visits every item of every source, in order.
pub(crate) fn visit<S: Sink>(sources: &[Source], sink: &mut S) -> Result<()> {
    let mut w = Walker {
        sink,
        visited: HashSet::new(),
        pending: None,
    };
    for s in sources {
        match s {
            Source::Path(p) => w.file(p)?,
        }
    }
    Ok(())
}

impl<S: Sink> Walker<'_, S> {
    fn file(&mut self, path: &Path) -> Result<()> {
        if path.is_dir() {
            for f in files_below(path)? {
                self.file(&f)?;
            }
            return Ok(());
        }
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if !self.visited.insert(canonical) {
            return Ok(());
        }
        let name = path.display().to_string();
        let f = File::open(path).map_err(|e| Error::io(path, e))?;
        let mut r = BufReader::with_capacity(1 << 20, f);
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        self.reader(&mut r, &name, &base)
    }

    /// Reads any layout from a buffered reader.
    fn reader<R: BufRead>(&mut self, r: &mut R, name: &str, base: &Path) -> Result<()> {
        let io = |e| Error::io(name, e);
        // Skip a BOM and whitespace, then look at the first line.
        let prefix = r.fill_buf().map_err(io)?;
        let mut skip = 0;
        if prefix.starts_with(&[0xEF, 0xBB, 0xBF]) {
            skip = 3;
        }
        while skip < prefix.len() && prefix[skip].is_ascii_whitespace() {
            skip += 1;
        }
        let line_mode = match prefix.get(skip) {
            None => return Ok(()),
            Some(b'{') => {
                let rest = &prefix[skip..];
                rest.iter()
                    .position(|b| *b == b'\n')
                    .is_some_and(|nl| serde_json::from_slice::<Value>(&rest[..nl]).is_ok())
            }
            Some(_) => false,
        };
        r.consume(skip);
        if line_mode {
            let mut line = String::new();
            let mut number = 0u64;
            loop {
                line.clear();
                let n = r.read_line(&mut line).map_err(io)?;
                if n == 0 {
                    break;
                }
                number += 1;
                if line.trim().is_empty() {
                    continue;
                }
                if self.sink.item_line(&line, name, number)? {
                    continue;
                }
                let v: Value =
                    serde_json::from_str(&line).map_err(|e| json_error(name, Some(number), e))?;
                self.dispatch(v, name, number, base)?;
            }
            return Ok(());
        }
        let mut de = serde_json::Deserializer::from_reader(r);
        let mut count = 0u64;
        let rest = TopLevel {
            walker: self,
            name,
            base,
            count: &mut count,
        }
        .deserialize(&mut de);
        let rest = match rest {
            Ok(v) => v,
            Err(e) => {
                return Err(self
                    .pending
                    .take()
                    .unwrap_or_else(|| json_error(name, None, e)));
            }
        };
        de.end().map_err(|e| json_error(name, None, e))?;
        if let Some(obj) = rest {
            self.dispatch(Value::Object(obj), name, 1, base)?;
        }
        Ok(())
    }

    /// One top-level (or line) value: an Item, a FeatureCollection, an
    /// array, a Catalog or a Collection.
    fn dispatch(&mut self, v: Value, name: &str, number: u64, base: &Path) -> Result<()> {
        match v {
            Value::Array(a) => {
                for (i, x) in a.into_iter().enumerate() {
                    self.item_value(x, name, i as u64 + 1)?;
                }
                Ok(())
            }
            Value::Object(mut o) => {
                let t = o.get("type").and_then(Value::as_str).map(str::to_owned);
                match t.as_deref() {
                    Some("FeatureCollection") => {
                        let features = o.remove("features").unwrap_or(Value::Array(Vec::new()));
                        let Value::Array(a) = features else {
                            return Err(not_stac(
                                name,
                                None,
                                "\"features\" to be an array",
                                kind(&features),
                            ));
                        };
                        for (i, x) in a.into_iter().enumerate() {
                            self.item_value(x, name, i as u64 + 1)?;
                        }
                        Ok(())
                    }
                    Some("Catalog" | "Collection") => self.catalog(o, name, base),
                    _ => self.item_value(Value::Object(o), name, number),
                }
            }
            other => Err(not_stac(
                name,
                Some(number),
                "a STAC Item, ItemCollection, Catalog or Collection",
                kind(&other),
            )),
        }
    }

    fn item_value(&mut self, v: Value, name: &str, number: u64) -> Result<()> {
        match v {
            Value::Object(o) => {
                let t = o.get("type").and_then(Value::as_str);
                if let Some(t) = t.filter(|t| *t != "Feature") {
                    return Err(not_stac(
                        name,
                        Some(number),
                        "a STAC Item (type \"Feature\")",
                        format!("type \"{t}\""),
                    ));
                }
                self.sink.item(o, name, number)
            }
            other => Err(not_stac(
                name,
                Some(number),
                "a STAC Item (a JSON object)",
                kind(&other),
            )),
        }
    }

    fn catalog(&mut self, o: Map<String, Value>, name: &str, base: &Path) -> Result<()> {
        let links: Vec<(String, String)> = o
            .get("links")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|l| {
                        let rel = l.get("rel")?.as_str()?;
                        let href = l.get("href")?.as_str()?;
                        Some((rel.to_owned(), href.to_owned()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if o.get("type").and_then(Value::as_str) == Some("Collection") {
            self.sink.collection(o)?;
        }
        for (rel, href) in links {
            if rel != "item" && rel != "child" {
                continue;
            }
            let local = href.strip_prefix("file://").unwrap_or(&href);
            if local.contains("://") {
                return Err(Error::RemoteLink {
                    path: name.into(),
                    href,
                });
            }
            let p = base.join(local);
            self.file(&p)?;
        }
        Ok(())
    }
}

/// Streams a top-level JSON value: the elements of an array, or the
/// `features` of an object, go to the sink one at a time; any other object
/// is returned whole.
struct TopLevel<'w, 'a, S: Sink> {
    walker: &'w mut Walker<'a, S>,
    name: &'w str,
    base: &'w Path,
    count: &'w mut u64,
}

impl<'de, S: Sink> DeserializeSeed<'de> for TopLevel<'_, '_, S> {
    type Value = Option<Map<String, Value>>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, S: Sink> Visitor<'de> for TopLevel<'_, '_, S> {
    type Value = Option<Map<String, Value>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a STAC Item, ItemCollection, Catalog, Collection or array of Items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while let Some(v) = seq.next_element::<Value>()? {
            *self.count += 1;
            if let Err(e) = self.walker.item_value(v, self.name, *self.count) {
                self.walker.pending = Some(e);
                return Err(serde::de::Error::custom("stopped"));
            }
        }
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut rest = Map::new();
        let mut streamed = false;
        while let Some(k) = map.next_key::<String>()? {
            if k == "features" {
                streamed = true;
                map.next_value_seed(Features {
                    walker: &mut *self.walker,
                    name: self.name,
                    count: &mut *self.count,
                })?;
            } else {
                let v: Value = map.next_value()?;
                rest.insert(k, v);
            }
        }
        let _ = self.base;
        if streamed { Ok(None) } else { Ok(Some(rest)) }
    }
}

struct Features<'w, 'a, S: Sink> {
    walker: &'w mut Walker<'a, S>,
    name: &'w str,
    count: &'w mut u64,
}

impl<'de, S: Sink> DeserializeSeed<'de> for Features<'_, '_, S> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, S: Sink> Visitor<'de> for Features<'_, '_, S> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of Items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<Value>()? {
            *self.count += 1;
            if let Err(e) = self.walker.item_value(v, self.name, *self.count) {
                self.walker.pending = Some(e);
                return Err(serde::de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

/// Whether a file below a directory input is read: `.json`, `.ndjson`,
/// `.geojson` (any case).
fn is_item_file(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        ["json", "ndjson", "geojson"]
            .iter()
            .any(|x| e.eq_ignore_ascii_case(x))
    })
}

/// The `.json`, `.ndjson` and `.geojson` files below `dir`, at any depth,
/// sorted by path (a deterministic order whatever the file system's).
/// Hidden entries (names starting with `.`) are skipped; symbolic links to
/// directories are followed once (loops are cut).
///
/// ```
/// let dir = tempfile::tempdir()?;
/// std::fs::create_dir(dir.path().join("b"))?;
/// for name in ["b/2.json", "1.NDJSON", "notes.txt", ".hidden.json"] {
///     std::fs::write(dir.path().join(name), "")?;
/// }
/// let files = stac_geoparquet::files_below(dir.path())?;
/// assert_eq!(files, [dir.path().join("1.NDJSON"), dir.path().join("b/2.json")]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn files_below(dir: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut stack = vec![dir.as_ref().to_path_buf()];
    while let Some(d) = stack.pop() {
        let canonical = d.canonicalize().map_err(|e| Error::io(&d, e))?;
        if !seen.insert(canonical) {
            continue;
        }
        let entries = std::fs::read_dir(&d).map_err(|e| Error::io(&d, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&d, e))?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let p = entry.path();
            // Follows links: a link to a directory is walked, to a file read.
            let meta = std::fs::metadata(&p).map_err(|e| Error::io(&p, e))?;
            if meta.is_dir() {
                stack.push(p);
            } else if meta.is_file() && is_item_file(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Copies a reader (e.g. standard input) into a temporary file, so that it
/// can be read twice. The file is registered for removal on interruption
/// (see `geoparquet_io::output`); read errors name `name`, write errors the
/// temporary directory.
///
/// Only input that can be STAC JSON or Parquet is copied: the first byte after
/// a byte-order mark and whitespace must be `{`, `[` or the start of `PAR1`, so
/// that an endless stream of something else (`< /dev/zero`) is refused at once
/// rather than filling the temporary directory.
///
/// ```
/// use stac_geoparquet::{Source, read_items, spill, write_parquet, WriterOptions};
///
/// let text = br#"{"type":"Feature","stac_version":"1.1.0","id":"a","geometry":null,"properties":{"datetime":null},"links":[],"assets":{}}"#;
/// let copy = spill(&text[..], "standard input")?;
/// let dir = tempfile::tempdir()?;
/// let out = dir.path().join("items.parquet");
/// write_parquet(&[Source::Path(copy.path().to_path_buf())], &out, &WriterOptions::default())?;
/// assert_eq!(read_items(&out)?[0]["id"], "a");
///
/// let refused = spill(&b"\0\0\0"[..], "standard input").unwrap_err();
/// assert_eq!(
///     refused.to_string(),
///     "standard input: neither JSON nor Parquet: byte 0x00 at offset 0"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn spill(mut reader: impl Read, name: &str) -> Result<geoparquet_io::output::ScratchPath> {
    let mut tmp = geoparquet_io::output::ScratchPath::new_in(None, ".geoquet-stdin-")?;
    tmp.show_as(name);
    let mut buf = vec![0u8; 1 << 16];
    let mut offset = 0u64;
    let mut sniffed = false;
    let mut opener: Option<u8> = None;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(name, e)),
        };
        if !sniffed {
            let start = if offset == 0 && buf[..n].starts_with(b"\xEF\xBB\xBF") {
                3
            } else {
                0
            };
            // The first two significant bytes: `{` then a key or `}`, `[` then an
            // object or `]`, or `PA` (an endless `[[[[` is refused too).
            for (i, &b) in buf[..n].iter().enumerate().skip(start) {
                if opener != Some(b'P') && b.is_ascii_whitespace() {
                    continue;
                }
                let fits = match opener {
                    None => matches!(b, b'{' | b'[' | b'P'),
                    Some(b'{') => matches!(b, b'"' | b'}'),
                    Some(b'[') => matches!(b, b'{' | b']'),
                    Some(_) => b == b'A',
                };
                if !fits {
                    return Err(Error::NotJsonOrParquet {
                        path: name.into(),
                        byte: b,
                        offset: offset + i as u64,
                    });
                }
                if opener.is_some() {
                    sniffed = true;
                    break;
                }
                opener = Some(b);
            }
        }
        offset += n as u64;
        std::io::Write::write_all(tmp.file_mut(), &buf[..n]).map_err(|source| {
            geoparquet_io::Error::TempDir {
                dir: std::env::temp_dir(),
                source,
            }
        })?;
    }
    Ok(tmp)
}
