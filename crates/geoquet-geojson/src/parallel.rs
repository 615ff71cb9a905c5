//! The fast path's two passes over chunks of the input, on worker threads.
//!
//! The input is cut into chunks of about [`CHUNK_BYTES`] at places that
//! look like the start of a feature (a `{` at the start of a line, or after
//! a `,` between array elements). A cut is only a guess: each chunk is
//! parsed on its own, in parallel, and the results are taken in input order.
//! When a chunk's last feature runs past its end, the guess was wrong for
//! the next chunk: its result is dropped and the unfinished feature is
//! parsed again together with the next chunk's bytes. So every feature is
//! parsed from its true start, whatever the cuts.
//!
//! Anything the fast path does not take ([`Bail`]) makes the reader start
//! over on the careful path, which decides what the input means.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fs::File;
use std::io::{self, Write};
use std::ops::Range;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use arrow_array::builder::{
    ArrayBuilder, BinaryBuilder, BooleanBuilder, Float64Builder, Int64Builder, StringBuilder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, new_null_array};
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use geoparquet_meta::GeometryTypeAndDimension;
use serde_json::Value;

use super::fast::{Bail, End, Mode, R, Scratch, Sink, Start, Tok, decode, parse_chunk};
use super::infer::{ColumnBuilder, IdKind, Kind, Members, fits};
use geoparquet_meta::geometry::Extent;

/// The target size of a chunk.
pub(crate) const CHUNK_BYTES: usize = 4 << 20;

/// A feature this large (still unfinished) gives the input to the careful
/// path, which streams it instead of holding it whole.
const MAX_FEATURE_BYTES: usize = 256 << 20;

/// Chunks read ahead of the one being taken, per worker.
const READ_AHEAD: usize = 3;

/// Why the fast path stopped.
#[derive(Debug)]
pub(crate) enum Fail {
    /// The careful path must decide.
    Bail,
    Io(io::Error),
}

impl From<io::Error> for Fail {
    fn from(e: io::Error) -> Self {
        Fail::Io(e)
    }
}

/// How the fast path runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tuning {
    /// The target chunk size.
    pub(crate) chunk_bytes: usize,
    /// Parsing threads (1: everything on the calling thread).
    pub(crate) workers: usize,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            chunk_bytes: CHUNK_BYTES,
            workers: std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(1)
                .min(8),
        }
    }
}

// --- cutting the input ------------------------------------------------------------------

/// Where the last chunk boundary in `buf` could be: an offset of a `{` that
/// likely starts a feature, not at 0.
fn find_cut(buf: &[u8], mode: Mode) -> Option<usize> {
    let elements = matches!(mode, Mode::Elements { .. });
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | 0x1E);
    // First choice: a `{` at the start of a line (after indentation for
    // array elements, after a `,` ending the previous line or starting this one).
    let mut end = buf.len();
    while let Some(nl) = buf
        .get(..end)
        .and_then(|b| b.iter().rposition(|&c| c == b'\n'))
    {
        let mut p = nl + 1;
        let mut comma = false;
        while let Some(&c) = buf.get(p) {
            if elements && c == b',' && !comma {
                comma = true;
            } else if !(is_space(c) || (elements && c == b' ')) {
                break;
            }
            p += 1;
        }
        if buf.get(p) == Some(&b'{') && p > 0 {
            let before = buf
                .get(..nl)
                .and_then(|b| b.iter().rposition(|&c| !is_space(c)));
            let prev = before.and_then(|i| buf.get(i)).copied();
            let fits = if elements {
                comma || prev == Some(b',')
            } else {
                p == nl + 1
                    || buf
                        .get(nl + 1..p)
                        .is_some_and(|s| s.iter().all(|&c| c == 0x1E))
            };
            if fits {
                return Some(p);
            }
        }
        end = nl;
    }
    // Otherwise (everything on one line): a `{` after `}` (sequences) or `,` (arrays).
    let mut p = buf.len();
    while p > 1 {
        p -= 1;
        if buf.get(p) != Some(&b'{') {
            continue;
        }
        let prev = buf
            .get(..p)
            .and_then(|b| {
                b.iter()
                    .rposition(|&c| !matches!(c, b' ' | b'\t' | b'\r' | b'\n' | 0x1E))
            })
            .and_then(|i| buf.get(i))
            .copied();
        let fits = if elements {
            prev == Some(b',')
        } else {
            prev == Some(b'}')
        };
        if fits {
            return Some(p);
        }
    }
    None
}

/// Reads at `offset` without moving the file's position (which other
/// readers of the same file, such as the careful path, rely on).
#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

#[cfg(not(any(unix, windows)))]
fn read_at(_: &File, _: &mut [u8], _: u64) -> io::Result<usize> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "positioned reads are not available on this platform",
    ))
}

/// Reads at `offset` (as [`read_at`]) until `buf` is full or the input
/// ends, retrying interrupted reads; how many bytes were read.
fn read_full_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut filled = 0;
    while let Some(space) = buf.get_mut(filled..).filter(|s| !s.is_empty()) {
        match read_at(file, space, offset + filled as u64) {
            Ok(0) => break,
            Ok(k) => filled += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Reads the input as chunks cut by [`find_cut`].
struct ChunkReader {
    file: File,
    /// The offset of the next chunk.
    offset: u64,
    /// The offset of the next byte to read.
    read_offset: u64,
    /// Bytes read after the last cut.
    rest: Vec<u8>,
    eof: bool,
    mode: Mode,
    chunk_bytes: usize,
}

impl ChunkReader {
    fn new(file: File, start: u64, mode: Mode, chunk_bytes: usize) -> Self {
        Self {
            file,
            offset: start,
            read_offset: start,
            rest: Vec::new(),
            eof: false,
            mode,
            chunk_bytes: chunk_bytes.max(1),
        }
    }

    /// Appends up to `n` bytes; whether the end of the input was reached.
    fn read_more(&mut self, buf: &mut Vec<u8>, n: usize) -> io::Result<bool> {
        let from = buf.len();
        buf.resize(from + n, 0);
        let read = read_full_at(
            &self.file,
            buf.get_mut(from..).unwrap_or_default(),
            self.read_offset,
        );
        match read {
            Ok(k) => {
                buf.truncate(from + k);
                self.read_offset += k as u64;
                Ok(k < n)
            }
            Err(e) => {
                buf.truncate(from);
                Err(e)
            }
        }
    }

    /// The next chunk and its offset in the input; [`Fail::Bail`] when no
    /// feature starts in the first [`MAX_FEATURE_BYTES`] bytes of it.
    fn next_chunk(&mut self) -> Result<Option<(u64, Vec<u8>)>, Fail> {
        let mut buf = std::mem::take(&mut self.rest);
        let mut want = self.chunk_bytes;
        loop {
            if !self.eof && buf.len() < want {
                let need = want - buf.len();
                self.eof = self.read_more(&mut buf, need)?;
            }
            if self.eof {
                if buf.is_empty() {
                    return Ok(None);
                }
                let at = self.offset;
                self.offset += buf.len() as u64;
                return Ok(Some((at, buf)));
            }
            if let Some(cut) = find_cut(&buf, self.mode) {
                self.rest = buf.split_off(cut);
                let at = self.offset;
                self.offset += buf.len() as u64;
                return Ok(Some((at, buf)));
            }
            // No boundary at all yet: one large feature. Read more, up to
            // the size at which the careful path takes the input.
            if buf.len() > MAX_FEATURE_BYTES {
                return Err(Fail::Bail);
            }
            want = want.saturating_mul(2).min(MAX_FEATURE_BYTES + 1);
        }
    }
}

// --- parsing chunks in order ------------------------------------------------------

/// Parses one chunk: how it starts and ends, and what it gave.
pub(crate) type ParseFn<T> = dyn Fn(&[u8]) -> (Start, End, T) + Send + Sync;

/// A chunk as read, with its offset in the input.
type Chunk = Result<(u64, Vec<u8>), Fail>;

/// A parsed chunk, with its offset in the input.
type Parsed<T> = Result<(u64, Vec<u8>, Start, End, T), Fail>;

enum Source<T> {
    /// Chunks read and parsed on the calling thread.
    Inline(ChunkReader),
    /// Chunks read on one thread and parsed on workers.
    Threads {
        results: Receiver<(u64, Parsed<T>)>,
        tickets: SyncSender<()>,
    },
}

/// Starts a background stage (an error, not a panic, if it cannot).
fn spawn(task: &'static str, f: impl FnOnce() + Send + 'static) -> io::Result<()> {
    geoparquet_io::workers::spawn_detached(task, f).map_err(io::Error::other)
}

/// A panic of a stage as the I/O error its consumer reports (never an early end).
fn panicked(p: geoparquet_io::workers::WorkerPanic) -> io::Error {
    io::Error::other(p)
}

/// What comes next in an array of features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// The first element or the `]` of an empty array.
    First,
    /// An element (after a `,`).
    Value,
    /// A `,` or the closing `]` (after an element).
    Separator,
}

/// The chunks' results, in input order, every feature parsed from its true
/// start (see the module documentation).
pub(crate) struct Ordered<T> {
    mode: Mode,
    parse: Arc<ParseFn<T>>,
    source: Source<T>,
    pending: BTreeMap<u64, Parsed<T>>,
    next_seq: u64,
    /// An unfinished feature and the bytes after it, from its offset.
    carry: Vec<u8>,
    carry_offset: u64,
    /// Parse the carry again once it is this long.
    retry_at: usize,
    expect: Expect,
    /// The offset just after the `]` closing the features array.
    closed: Option<u64>,
    done: bool,
}

impl<T: Send + 'static> Ordered<T> {
    /// Starts reading `file` from `start`.
    pub(crate) fn new(
        file: &File,
        start: u64,
        mode: Mode,
        tuning: Tuning,
        parse: Arc<ParseFn<T>>,
    ) -> io::Result<Self> {
        let len = file.metadata()?.len();
        let mut reader = ChunkReader::new(file.try_clone()?, start, mode, tuning.chunk_bytes);
        let source = if tuning.workers <= 1
            || len.saturating_sub(start) <= tuning.chunk_bytes as u64
        {
            Source::Inline(reader)
        } else {
            let workers = tuning.workers;
            let in_flight = workers * READ_AHEAD;
            let (tickets, ticket_rx) = sync_channel::<()>(in_flight);
            for _ in 0..in_flight {
                let _ = tickets.try_send(());
            }
            let (work_tx, work_rx) = sync_channel::<(u64, Chunk)>(workers);
            let (result_tx, results) = sync_channel::<(u64, Parsed<T>)>(in_flight);
            spawn("geojson: read", move || {
                let mut seq = 0;
                while ticket_rx.recv().is_ok() {
                    let next =
                        geoparquet_io::workers::catch("geojson: read", || reader.next_chunk())
                            .unwrap_or_else(|p| Err(panicked(p).into()));
                    let last = !matches!(next, Ok(Some(_)));
                    let item = match next {
                        Ok(Some(chunk)) => Ok(chunk),
                        Ok(None) => break,
                        Err(e) => Err(e),
                    };
                    if work_tx.send((seq, item)).is_err() || last {
                        break;
                    }
                    seq += 1;
                }
            })?;
            let work_rx = Arc::new(Mutex::new(work_rx));
            for _ in 0..workers {
                let work_rx = Arc::clone(&work_rx);
                let result_tx = result_tx.clone();
                let parse = Arc::clone(&parse);
                spawn("geojson: parse", move || {
                    loop {
                        let next = match work_rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        let Ok((seq, item)) = next else { return };
                        let parsed = item.and_then(|(offset, bytes)| {
                            let (start, end, value) =
                                geoparquet_io::workers::catch("geojson: parse", || parse(&bytes))
                                    .map_err(|p| Fail::Io(panicked(p)))?;
                            Ok((offset, bytes, start, end, value))
                        });
                        if result_tx.send((seq, parsed)).is_err() {
                            return;
                        }
                    }
                })?;
            }
            Source::Threads { results, tickets }
        };
        Ok(Self {
            mode,
            parse,
            source,
            pending: BTreeMap::new(),
            next_seq: 0,
            carry: Vec::new(),
            carry_offset: 0,
            retry_at: 0,
            expect: Expect::First,
            closed: None,
            done: false,
        })
    }

    /// The offset just after the `]` that closed the features array, once
    /// every chunk was taken (arrays of features only).
    pub(crate) fn closed_at(&self) -> Option<u64> {
        self.closed
    }

    /// The next chunk in input order, `None` at the end of the input.
    fn next_parsed(&mut self) -> Option<Parsed<T>> {
        match &mut self.source {
            Source::Inline(reader) => match reader.next_chunk() {
                Ok(Some((offset, bytes))) => {
                    let (start, end, value) = (self.parse)(&bytes);
                    Some(Ok((offset, bytes, start, end, value)))
                }
                Ok(None) => None,
                Err(e) => Some(Err(e)),
            },
            Source::Threads { results, tickets } => loop {
                if let Some(parsed) = self.pending.remove(&self.next_seq) {
                    self.next_seq += 1;
                    let _ = tickets.try_send(());
                    return Some(parsed);
                }
                match results.recv() {
                    Ok((seq, parsed)) => {
                        self.pending.insert(seq, parsed);
                    }
                    Err(_) => return None,
                }
            },
        }
    }

    /// Checks how a chunk starts and ends against what came before; the
    /// offset where its last whole feature ends.
    fn settle(&mut self, base: u64, bytes: &[u8], start: Start, end: End) -> Result<u64, Fail> {
        if matches!(self.mode, Mode::Elements { .. }) {
            let fits = matches!(
                (self.expect, start),
                (_, Start::Nothing)
                    | (Expect::First, Start::Value | Start::Close)
                    | (Expect::Value, Start::Value)
                    | (Expect::Separator, Start::Comma | Start::Close)
            );
            if !fits {
                return Err(Fail::Bail);
            }
        }
        let whole = base + bytes.len() as u64;
        match end {
            End::Clean(None) => {}
            End::Clean(Some(true)) => self.expect = Expect::Separator,
            End::Clean(Some(false)) => self.expect = Expect::Value,
            End::Incomplete(at) => {
                self.carry = bytes.get(at..).unwrap_or_default().to_vec();
                self.carry_offset = base + at as u64;
                self.retry_at = 0;
                self.expect = Expect::Value;
                return Ok(self.carry_offset);
            }
            End::Closed(at) => {
                if self.mode == Mode::Sequence {
                    return Err(Fail::Bail);
                }
                self.closed = Some(base + at as u64 + 1);
                return Ok(base + at as u64);
            }
            End::Bail => return Err(Fail::Bail),
        }
        Ok(whole)
    }

    /// Parses the carried bytes again.
    fn retry(&mut self) -> Result<(T, Range<u64>), Fail> {
        let bytes = std::mem::take(&mut self.carry);
        let base = self.carry_offset;
        let (start, end, value) = (self.parse)(&bytes);
        let upto = self.settle(base, &bytes, start, end)?;
        if matches!(end, End::Incomplete(_)) {
            // Still unfinished: wait for twice as much before trying again.
            self.retry_at = bytes.len().saturating_mul(2);
            if self.carry.len() > MAX_FEATURE_BYTES {
                return Err(Fail::Bail);
            }
        }
        Ok((value, base..upto))
    }

    /// The next result in input order, with the bytes of the input its
    /// features come from.
    pub(crate) fn next_result(&mut self) -> Option<Result<(T, Range<u64>), Fail>> {
        if self.done {
            return None;
        }
        let result = self.step();
        if !matches!(result, Some(Ok(_))) {
            self.done = true;
        }
        result
    }

    fn step(&mut self) -> Option<Result<(T, Range<u64>), Fail>> {
        loop {
            let Some(parsed) = self.next_parsed() else {
                // The end of the input.
                if !self.carry.is_empty() {
                    self.retry_at = 0;
                    return Some(match self.retry() {
                        Ok(_) if !self.carry.is_empty() => Err(Fail::Bail),
                        Ok(_) if self.misses_close() => Err(Fail::Bail),
                        other => other,
                    });
                }
                if self.misses_close() {
                    return Some(Err(Fail::Bail));
                }
                return None;
            };
            let (base, bytes, start, end, value) = match parsed {
                Ok(p) => p,
                Err(e) => return Some(Err(e)),
            };
            if self.closed.is_some() {
                // After the array: checked by the caller.
                continue;
            }
            if self.carry.is_empty() {
                return Some(
                    self.settle(base, &bytes, start, end)
                        .map(|upto| (value, base..upto)),
                );
            }
            // The speculative parse started inside a feature: drop it.
            self.carry.extend_from_slice(&bytes);
            if self.carry.len() > MAX_FEATURE_BYTES {
                return Some(Err(Fail::Bail));
            }
            if self.carry.len() >= self.retry_at {
                return Some(self.retry());
            }
        }
    }

    fn misses_close(&self) -> bool {
        matches!(self.mode, Mode::Elements { .. }) && self.closed.is_none()
    }
}

// --- pass 1: what the properties hold, and the chunk's columns ---------------------

/// What pass 1 learns of one chunk, or of the whole input (the chunks
/// merged in order, or the careful path's first pass).
#[derive(Debug, Default)]
pub(crate) struct Learnt {
    /// The properties' names and kinds, in order of first appearance.
    pub(crate) properties: Members,
    /// The kind of the feature ids.
    pub(crate) id: IdKind,
    pub(crate) num_features: u64,
    /// The types of the non-null geometries.
    pub(crate) geometry_types: BTreeSet<GeometryTypeAndDimension>,
    /// The extent of every coordinate.
    pub(crate) extent: Extent,
}

impl Learnt {
    /// Adds what a later chunk learnt.
    pub(crate) fn merge(&mut self, later: Learnt) {
        self.properties.merge(later.properties);
        self.id.merge(later.id);
        self.num_features += later.num_features;
        self.geometry_types.extend(later.geometry_types);
        self.extent.merge(&later.extent);
    }
}

/// The property kind of one scalar value (`None` for null and for objects
/// and arrays, which go through `serde_json`).
fn scalar_kind(tok: Tok<'_>) -> Option<Kind> {
    match tok {
        Tok::Bool(_) => Some(Kind::Bool),
        Tok::Num(n) if n.int.is_some() => Some(Kind::Int),
        Tok::Num(_) => Some(Kind::Float),
        Tok::Str(..) => Some(Kind::Str),
        Tok::Null | Tok::Complex(_) => None,
    }
}

fn id_kind(tok: Tok<'_>) -> IdKind {
    match tok {
        Tok::Null => IdKind::Absent,
        Tok::Num(n) if n.int.is_some() => IdKind::Int,
        Tok::Num(_) => IdKind::Float,
        _ => IdKind::Str,
    }
}

/// Where each member position of the last feature's properties was among
/// the columns: features mostly list their properties in the same order, so
/// a key is compared with one name instead of being hashed.
#[derive(Debug, Default)]
struct Guess(Vec<usize>);

impl Guess {
    /// The column of the `member`-th key of a feature when it is where it
    /// was last time.
    fn guessed(&self, member: usize, names: &[String], key: &[u8]) -> Option<usize> {
        let g = *self.0.get(member)?;
        names
            .get(g)
            .is_some_and(|n| n.as_bytes() == key)
            .then_some(g)
    }

    /// Remembers the column `i` of the `member`-th key.
    fn remember(&mut self, member: usize, i: usize) {
        if let Some(g) = self.0.get_mut(member) {
            *g = i;
        } else if self.0.len() == member {
            self.0.push(i);
        }
    }
}

/// A column of one chunk, built while its kind is learnt: scalars only.
enum Dyn {
    Null(usize),
    Int(Int64Builder),
    Float(Float64Builder),
    Bool(BooleanBuilder),
    Str(StringBuilder),
}

impl Dyn {
    fn push_null(&mut self) {
        match self {
            Dyn::Null(n) => *n += 1,
            Dyn::Int(b) => b.append_null(),
            Dyn::Float(b) => b.append_null(),
            Dyn::Bool(b) => b.append_null(),
            Dyn::Str(b) => b.append_null(),
        }
    }

    /// Appends one value the way the careful path's builders would for
    /// this kind; `false` when the column cannot hold it as it is (the
    /// chunk is then parsed again once the whole input's kinds are known).
    fn push(&mut self, tok: Tok<'_>) -> bool {
        match (&mut *self, tok) {
            (_, Tok::Null) => self.push_null(),
            (Dyn::Null(n), _) => {
                let mut fresh = match tok {
                    Tok::Num(num) if num.int.is_some() => Dyn::Int(Int64Builder::new()),
                    Tok::Num(_) => Dyn::Float(Float64Builder::new()),
                    Tok::Bool(_) => Dyn::Bool(BooleanBuilder::new()),
                    Tok::Str(..) => Dyn::Str(StringBuilder::new()),
                    Tok::Null | Tok::Complex(_) => return false,
                };
                for _ in 0..*n {
                    fresh.push_null();
                }
                *self = fresh;
                return self.push(tok);
            }
            (Dyn::Int(b), Tok::Num(num)) => match num.int {
                Some(i) => b.append_value(i),
                None => {
                    // A float among integers: the column is Float64 (as
                    // serde_json's `as_f64` of each integer).
                    let ints = b.finish();
                    let mut floats = Float64Builder::with_capacity(ints.len() + 1);
                    floats.extend(ints.iter().map(|v| v.map(|i| i as f64)));
                    *self = Dyn::Float(floats);
                    return self.push(tok);
                }
            },
            (Dyn::Float(b), Tok::Num(num)) => match num.f64() {
                Some(v) => b.append_value(v),
                None => return false,
            },
            (Dyn::Bool(b), Tok::Bool(v)) => b.append_value(v),
            (Dyn::Str(b), Tok::Str(raw, escaped)) => match decode(raw, escaped) {
                Ok(text) if fits(b.values_slice().len(), text.len()).is_ok() => {
                    b.append_value(text);
                }
                _ => return false,
            },
            _ => return false,
        }
        true
    }

    fn kind(&self) -> Kind {
        match self {
            Dyn::Null(_) => Kind::Null,
            Dyn::Int(_) => Kind::Int,
            Dyn::Float(_) => Kind::Float,
            Dyn::Bool(_) => Kind::Bool,
            Dyn::Str(_) => Kind::Str,
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Dyn::Null(n) => new_null_array(&DataType::Utf8, *n),
            Dyn::Int(b) => Arc::new(b.finish()),
            Dyn::Float(b) => Arc::new(b.finish()),
            Dyn::Bool(b) => Arc::new(b.finish()),
            Dyn::Str(b) => Arc::new(b.finish()),
        }
    }
}

/// The columns one chunk built in pass 1, with the kinds they have there.
pub(crate) struct Built {
    /// The chunk's properties in its own order of first appearance.
    pub(crate) names: Vec<String>,
    pub(crate) kinds: Vec<Kind>,
    /// The kind of the id column (`Absent`: all null).
    pub(crate) id: IdKind,
    /// The id column (if any), the properties, then the geometries.
    pub(crate) batch: RecordBatch,
}

struct Learner<'a> {
    learnt: Learnt,
    /// The feature number each property was last seen in (duplicates give up).
    seen: Vec<u64>,
    feature: u64,
    /// The property position each member position had last time.
    guess: Guess,
    member: usize,
    /// Whether the chunk's columns are still being built.
    building: bool,
    slots: Vec<Option<Tok<'a>>>,
    columns: Vec<Dyn>,
    id: Dyn,
    geometry: BinaryBuilder,
    rows: usize,
}

impl<'a> Sink<'a> for Learner<'a> {
    fn begin(&mut self) {
        self.feature += 1;
        self.member = 0;
        self.slots.iter_mut().for_each(|s| *s = None);
    }

    fn property(&mut self, key: &[u8], value: Tok<'a>) -> R<()> {
        let props = &mut self.learnt.properties;
        let i = match self.guess.guessed(self.member, props.names(), key) {
            Some(g) => g,
            None => {
                let i = props.position_or_push(std::str::from_utf8(key).map_err(|_| Bail)?);
                self.guess.remember(self.member, i);
                i
            }
        };
        self.member += 1;
        if self.seen.len() <= i {
            self.seen.resize(i + 1, 0);
            if self.building && i >= super::WIDE_COLUMNS {
                // Too wide to build here (a value per column per row): the
                // careful pass 2 reads such inputs; free what was built.
                self.building = false;
                self.slots = Vec::new();
                self.columns = Vec::new();
            }
            if self.building {
                self.slots.resize(i + 1, None);
                let rows = self.rows;
                self.columns.resize_with(i + 1, || Dyn::Null(rows));
            }
        }
        match self.seen.get_mut(i) {
            Some(s) if *s == self.feature => return Err(Bail),
            Some(s) => *s = self.feature,
            None => {}
        }
        if let Some(slot) = self.slots.get_mut(i) {
            *slot = Some(value);
        }
        let kind = props.kind_mut(i).ok_or(Bail)?;
        match (scalar_kind(value), value) {
            (Some(k), _) => {
                if *kind != k {
                    kind.merge(k);
                }
            }
            (None, Tok::Complex(_)) => kind.absorb(&value.to_value()?),
            (None, _) => {}
        }
        Ok(())
    }

    fn end(
        &mut self,
        id: Tok<'a>,
        geometry: Option<GeometryTypeAndDimension>,
        wkb: &[u8],
    ) -> R<()> {
        if let Tok::Complex(_) = id {
            // serde_json decides what an object id is (a string of its JSON text).
            id.to_value()?;
        }
        self.learnt.id.merge(id_kind(id));
        if let Some(g) = geometry {
            self.learnt.geometry_types.insert(g);
        }
        self.learnt.num_features += 1;
        if self.building {
            // Ids other than numbers and strings are JSON text in the careful path.
            let mut ok = !matches!(id, Tok::Bool(_) | Tok::Complex(_)) && self.id.push(id);
            for (slot, column) in self.slots.iter_mut().zip(&mut self.columns) {
                ok = ok && column.push(slot.take().unwrap_or(Tok::Null));
            }
            match geometry {
                None => self.geometry.append_null(),
                // Arrow's builder panics past 2 GiB of values: a chunk whose
                // geometries do not fit is not built here (pass 2 parses it again).
                Some(_) if fits(self.geometry.values_slice().len(), wkb.len()).is_ok() => {
                    self.geometry.append_value(wkb);
                }
                Some(_) => ok = false,
            }
            self.building = ok;
        }
        self.rows += 1;
        Ok(())
    }

    fn extent(&mut self) -> Option<&mut Extent> {
        Some(&mut self.learnt.extent)
    }
}

/// Pass 1 over one chunk: what it holds, and its columns when they could
/// be built without knowing the whole input's kinds.
pub(crate) fn learn(bytes: &[u8], mode: Mode) -> (Start, End, (Learnt, Option<Built>)) {
    let mut sink = Learner {
        learnt: Learnt::default(),
        seen: Vec::new(),
        feature: 0,
        guess: Guess::default(),
        member: 0,
        building: true,
        slots: Vec::new(),
        columns: Vec::new(),
        id: Dyn::Null(0),
        geometry: BinaryBuilder::new(),
        rows: 0,
    };
    let mut scratch = Scratch::default();
    let (start, end) = parse_chunk(bytes, mode, &mut sink, &mut scratch);
    let built = if sink.building && sink.rows > 0 && !matches!(end, End::Bail) {
        built(&mut sink)
    } else {
        None
    };
    (start, end, (sink.learnt, built))
}

fn built(sink: &mut Learner<'_>) -> Option<Built> {
    let rows = sink.rows;
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    let id = match sink.id.kind() {
        Kind::Null => IdKind::Absent,
        Kind::Int => IdKind::Int,
        Kind::Float => IdKind::Float,
        _ => IdKind::Str,
    };
    let mut push = |name: String, array: ArrayRef| {
        fields.push(Field::new(name, array.data_type().clone(), true));
        columns.push(array);
    };
    push("id".to_owned(), sink.id.finish());
    let mut kinds = Vec::with_capacity(sink.columns.len());
    for (i, column) in sink.columns.iter_mut().enumerate() {
        kinds.push(column.kind());
        push(format!("p{i}"), column.finish());
    }
    push("geometry".to_owned(), Arc::new(sink.geometry.finish()));
    if columns.iter().any(|c| c.len() != rows) {
        return None;
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).ok()?;
    Some(Built {
        names: sink.learnt.properties.names().to_vec(),
        kinds,
        id,
        batch,
    })
}

// --- pass 2: record batches ------------------------------------------------------

/// What pass 2 needs from pass 1.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) schema: SchemaRef,
    pub(crate) names: Vec<String>,
    pub(crate) kinds: Vec<Kind>,
    pub(crate) index: HashMap<String, usize>,
    /// The id column's kind, if there is one.
    pub(crate) id: Option<IdKind>,
}

struct Builder<'p, 'a> {
    plan: &'p Plan,
    slots: Vec<Option<Tok<'a>>>,
    guess: Guess,
    member: usize,
    id: Option<ColumnBuilder>,
    properties: Vec<ColumnBuilder>,
    geometry: BinaryBuilder,
    error: Option<String>,
}

const CHANGED: &str = "the input changed while it was read";

/// Appends one value, the common cases without building a JSON value.
fn append(builder: &mut ColumnBuilder, tok: Tok<'_>) -> Result<(), String> {
    match (&mut *builder, tok) {
        (ColumnBuilder::Int(b), Tok::Num(n)) if n.int.is_some() => b.append_option(n.int),
        (ColumnBuilder::Float(b), Tok::Num(n)) => {
            b.append_value(n.f64().ok_or_else(|| CHANGED.to_owned())?);
        }
        (ColumnBuilder::Bool(b), Tok::Bool(v)) => b.append_value(v),
        (ColumnBuilder::Str(b), Tok::Str(raw, escaped)) => {
            let s = decode(raw, escaped).map_err(|Bail| CHANGED.to_owned())?;
            fits(b.values_slice().len(), s.len())?;
            b.append_value(s);
        }
        (_, Tok::Null) => builder.append(&Value::Null)?,
        (_, tok) => builder.append(&tok.to_value().map_err(|Bail| CHANGED.to_owned())?)?,
    }
    Ok(())
}

impl<'a> Builder<'_, 'a> {
    fn fail(&mut self, message: String) -> Bail {
        self.error.get_or_insert(message);
        Bail
    }
}

impl<'a> Sink<'a> for Builder<'_, 'a> {
    fn begin(&mut self) {
        self.slots.iter_mut().for_each(|s| *s = None);
        self.member = 0;
    }

    fn property(&mut self, key: &[u8], value: Tok<'a>) -> R<()> {
        let plan = self.plan;
        let i = self
            .guess
            .guessed(self.member, &plan.names, key)
            .or_else(|| {
                let i = std::str::from_utf8(key)
                    .ok()
                    .and_then(|k| plan.index.get(k).copied())?;
                self.guess.remember(self.member, i);
                Some(i)
            });
        self.member += 1;
        match i.and_then(|i| self.slots.get_mut(i)) {
            Some(slot) => {
                *slot = Some(value);
                Ok(())
            }
            None => Err(self.fail(format!(
                "property \"{}\" was not seen by the first pass (did the input change while it was read?)",
                String::from_utf8_lossy(key)
            ))),
        }
    }

    fn end(
        &mut self,
        id: Tok<'a>,
        geometry: Option<GeometryTypeAndDimension>,
        wkb: &[u8],
    ) -> R<()> {
        let mut result = Ok(());
        if let Some(b) = &mut self.id {
            result = append(b, id);
        }
        for (slot, b) in self.slots.iter_mut().zip(&mut self.properties) {
            if result.is_err() {
                break;
            }
            result = append(b, slot.take().unwrap_or(Tok::Null));
        }
        if result.is_ok() {
            result = match geometry {
                None => {
                    self.geometry.append_null();
                    Ok(())
                }
                Some(_) => fits(self.geometry.values_slice().len(), wkb.len())
                    .map(|()| self.geometry.append_value(wkb))
                    .map_err(|m| format!("geometry: {m}")),
            };
        }
        result.map_err(|m| self.fail(m))
    }

    fn extent(&mut self) -> Option<&mut Extent> {
        None
    }
}

/// Pass 2 over one chunk: a record batch of its features (`None` if it has
/// none), or a message when the input no longer reads as in pass 1.
pub(crate) fn build(
    bytes: &[u8],
    mode: Mode,
    plan: &Plan,
) -> (Start, End, Result<Option<RecordBatch>, String>) {
    let mut sink = Builder {
        plan,
        slots: vec![None; plan.names.len()],
        guess: Guess::default(),
        member: 0,
        id: plan.id.map(ColumnBuilder::for_id),
        properties: plan.kinds.iter().map(ColumnBuilder::new).collect(),
        geometry: BinaryBuilder::new(),
        error: None,
    };
    let mut scratch = Scratch::default();
    let (start, end) = parse_chunk(bytes, mode, &mut sink, &mut scratch);
    if let Some(message) = sink.error.take() {
        // Reported as it is when the chunk started at a feature (dropped otherwise).
        return (start, End::Clean(None), Err(message));
    }
    let rows = sink.geometry.len();
    if rows == 0 {
        return (start, end, Ok(None));
    }
    let mut finish = || -> Result<RecordBatch, String> {
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(plan.schema.fields().len());
        if let Some(b) = &mut sink.id {
            columns.push(b.finish()?);
        }
        for b in &mut sink.properties {
            columns.push(b.finish()?);
        }
        columns.push(Arc::new(sink.geometry.finish()));
        RecordBatch::try_new(plan.schema.clone(), columns).map_err(|e| e.to_string())
    };
    match finish() {
        Ok(batch) => (start, end, Ok(Some(batch))),
        Err(message) => (start, End::Clean(None), Err(message)),
    }
}

// --- between the passes: chunks kept on disk -----------------------------------------

/// One chunk of pass 1.
pub(crate) struct Record {
    /// The input bytes its features come from.
    range: Range<u64>,
    rows: usize,
    /// Where its columns are in the spill file, when pass 1 could build them.
    stored: Option<Stored>,
}

struct Stored {
    at: u64,
    len: u64,
    names: Vec<String>,
    kinds: Vec<Kind>,
    id: IdKind,
}

/// Pass 1's columns, kept in a temporary file (Arrow IPC, one stream per
/// chunk) until the whole input's schema is known.
pub(crate) struct Spill {
    file: File,
    at: u64,
    records: VecDeque<Record>,
}

impl Spill {
    /// An empty spill in an unnamed file of the temporary directory.
    pub(crate) fn new() -> crate::Result<Self> {
        Ok(Self {
            file: geoparquet_io::output::scratch_file(None)?,
            at: 0,
            records: VecDeque::new(),
        })
    }

    /// Keeps one chunk (nothing for a chunk without features).
    pub(crate) fn push(
        &mut self,
        range: Range<u64>,
        rows: u64,
        built: Option<Built>,
    ) -> io::Result<()> {
        let rows = usize::try_from(rows).map_err(io::Error::other)?;
        if rows == 0 {
            return Ok(());
        }
        let stored = match built {
            Some(b) if b.batch.num_rows() == rows => {
                let mut bytes = Vec::new();
                let mut w = StreamWriter::try_new(&mut bytes, &b.batch.schema())
                    .map_err(io::Error::other)?;
                w.write(&b.batch).map_err(io::Error::other)?;
                w.finish().map_err(io::Error::other)?;
                drop(w);
                // Carried through the I/O error as the temporary directory's
                // (see `read::temp_dir_error`), not the input's.
                self.file.write_all(&bytes).map_err(|source| {
                    io::Error::new(
                        source.kind(),
                        crate::Error::TempDir {
                            dir: std::env::temp_dir(),
                            source,
                        },
                    )
                })?;
                let at = self.at;
                self.at += bytes.len() as u64;
                Some(Stored {
                    at,
                    len: bytes.len() as u64,
                    names: b.names,
                    kinds: b.kinds,
                    id: b.id,
                })
            }
            _ => None,
        };
        self.records.push_back(Record {
            range,
            rows,
            stored,
        });
        Ok(())
    }
}

/// Why pass 2 failed.
#[derive(Debug)]
pub(crate) enum ReplayError {
    Io(io::Error),
    /// The input no longer reads as in pass 1.
    Changed(String),
}

/// Pass 2: the chunks of pass 1 in the whole input's schema. A chunk whose
/// columns do not fit it as they are (a kind widened later in the input,
/// nested values, ...) is parsed again from the input with the final kinds.
pub(crate) struct Replay {
    spill: Spill,
    input: File,
    mode: Mode,
    plan: Plan,
}

/// `array` (all its values of one kind) as a column of kind `global`, if
/// that needs no parsing.
fn conform(array: &ArrayRef, local: &Kind, global: &Kind, rows: usize) -> Option<ArrayRef> {
    match (local, global) {
        (l, g) if l == g => Some(Arc::clone(array)),
        (Kind::Null, g) => Some(new_null_array(&g.data_type(), rows)),
        (Kind::Int, Kind::Float) => Some(int_to_float(array)?),
        _ => None,
    }
}

fn int_to_float(array: &ArrayRef) -> Option<ArrayRef> {
    let ints = array.as_primitive_opt::<Int64Type>()?;
    let floats: Float64Array = ints.unary(|v| v as f64);
    Some(Arc::new(floats))
}

impl Replay {
    pub(crate) fn new(spill: Spill, input: File, mode: Mode, plan: Plan) -> Self {
        Self {
            spill,
            input,
            mode,
            plan,
        }
    }

    /// The stored columns of a chunk in the final schema, if they fit it.
    fn stored(&self, stored: &Stored, rows: usize) -> Result<Option<RecordBatch>, ReplayError> {
        let mut bytes =
            vec![0; usize::try_from(stored.len).map_err(|e| ReplayError::Io(io::Error::other(e)))?];
        let filled =
            read_full_at(&self.spill.file, &mut bytes, stored.at).map_err(ReplayError::Io)?;
        if filled < bytes.len() {
            return Err(ReplayError::Io(io::ErrorKind::UnexpectedEof.into()));
        }
        let other = |e: arrow_schema::ArrowError| ReplayError::Io(io::Error::other(e));
        let mut reader = StreamReader::try_new(io::Cursor::new(bytes), None).map_err(other)?;
        let Some(batch) = reader.next().transpose().map_err(other)? else {
            return Ok(None);
        };
        let plan = &self.plan;
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(plan.schema.fields().len());
        if let Some(global) = plan.id {
            let as_kind = |k: IdKind| match k {
                IdKind::Absent => Kind::Null,
                IdKind::Int => Kind::Int,
                IdKind::Float => Kind::Float,
                IdKind::Str => Kind::Str,
            };
            let id_type = global.data_type().unwrap_or(DataType::Utf8);
            let column = match (stored.id, global) {
                (IdKind::Absent, _) => Some(new_null_array(&id_type, rows)),
                (l, g) => batch
                    .columns()
                    .first()
                    .and_then(|c| conform(c, &as_kind(l), &as_kind(g), rows)),
            };
            let Some(column) = column else {
                return Ok(None);
            };
            columns.push(column);
        }
        let local: HashMap<&str, usize> = stored
            .names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        for (name, kind) in plan.names.iter().zip(&plan.kinds) {
            let column = match local.get(name.as_str()) {
                None => Some(new_null_array(&kind.data_type(), rows)),
                Some(&i) => match (stored.kinds.get(i), batch.columns().get(i + 1)) {
                    (Some(k), Some(c)) => conform(c, k, kind, rows),
                    _ => None,
                },
            };
            let Some(column) = column else {
                return Ok(None);
            };
            columns.push(column);
        }
        let Some(geometry) = batch.columns().last() else {
            return Ok(None);
        };
        columns.push(Arc::clone(geometry));
        RecordBatch::try_new(plan.schema.clone(), columns)
            .map(Some)
            .map_err(|e| ReplayError::Changed(e.to_string()))
    }

    /// Parses a chunk of the input again with the final kinds.
    fn parse_again(&self, range: &Range<u64>, rows: usize) -> Result<RecordBatch, ReplayError> {
        let len = usize::try_from(range.end.saturating_sub(range.start))
            .map_err(|e| ReplayError::Io(io::Error::other(e)))?;
        let mut bytes = vec![0; len];
        let filled = read_full_at(&self.input, &mut bytes, range.start).map_err(ReplayError::Io)?;
        bytes.truncate(filled);
        let (_, end, batch) = build(&bytes, self.mode, &self.plan);
        let changed = || {
            ReplayError::Changed(
                "the input changed while it was read: the second pass does not read as the first did"
                    .to_owned(),
            )
        };
        match (end, batch) {
            (_, Err(message)) => Err(ReplayError::Changed(message)),
            (End::Clean(_), Ok(Some(batch))) if batch.num_rows() == rows => Ok(batch),
            _ => Err(changed()),
        }
    }

    /// The next chunk's batch.
    pub(crate) fn next_batch(&mut self) -> Option<Result<RecordBatch, ReplayError>> {
        let record = self.spill.records.pop_front()?;
        if let Some(stored) = &record.stored {
            match self.stored(stored, record.rows) {
                Ok(Some(batch)) => return Some(Ok(batch)),
                Ok(None) => {}
                Err(e) => return Some(Err(e)),
            }
        }
        Some(self.parse_again(&record.range, record.rows))
    }
}

#[cfg(test)]
mod tests {
    //! The fast path against the careful path: same schema, rows, types,
    //! extent and errors, whatever the chunk size and number of threads.

    use std::io::Cursor;

    use test_support::Rng;

    use arrow_select::concat::concat_batches;

    use super::*;
    use crate::{GeoJsonReader, ReadOptions};

    thread_local! {
        /// How many readers of this thread took the fast path.
        static FAST: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }

    fn fast_readers() -> u64 {
        FAST.with(std::cell::Cell::get)
    }

    /// Everything a reader tells, or its error message.
    fn outcome(text: &[u8], tuning: Option<Tuning>) -> Result<String, String> {
        let options = ReadOptions::default()
            .with_batch_size(7)
            .with_tuning(tuning);
        let reader = GeoJsonReader::try_from_reader(Cursor::new(text.to_vec()), options)
            .map_err(|e| e.to_string())?;
        if reader.is_fast() {
            FAST.with(|f| f.set(f.get() + 1));
        }
        let schema = reader.schema();
        let head = format!(
            "{:?} {:?} {:?} {} {:?}",
            schema,
            reader.geometry_types(),
            reader.bbox().map(|b| b.to_vec()),
            reader.num_features(),
            reader.feature_id_column()
        );
        let batches = reader
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        if batches.iter().any(|b| b.num_rows() > 7) {
            return Err("a batch is larger than the batch size".to_owned());
        }
        let all = concat_batches(&schema, &batches).map_err(|e| e.to_string())?;
        Ok(format!("{head}\n{all:?}"))
    }

    fn same_everywhere(text: &[u8]) {
        let careful = outcome(text, None);
        for (chunk_bytes, workers) in [(CHUNK_BYTES, 1), (1, 1), (13, 2), (64, 3), (257, 2)] {
            let fast = outcome(
                text,
                Some(Tuning {
                    chunk_bytes,
                    workers,
                }),
            );
            assert_eq!(
                careful,
                fast,
                "chunks of {chunk_bytes} bytes, {workers} workers, input:\n{}",
                String::from_utf8_lossy(text)
            );
        }
    }

    const FEATURES: &[&str] = &[
        r#"{"type":"Feature","id":1,"properties":{"a":1,"b":"x","c":null},"geometry":{"type":"Point","coordinates":[1.5,-2]}}"#,
        r#"{"type": "Feature", "properties": {"a": 2.5, "d": {"e": [1, 2], "f": "g"}}, "geometry": null, "id": "k"}"#,
        r#"{"geometry":{"coordinates":[[0,0,1],[1,1]],"type":"LineString"},"type":"Feature","properties":null}"#,
        r#"{"type":"Feature","properties":{"b":"\u00e9\"\\\/\n","k\u0065y":true},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]],[]]}}"#,
        r#"{"type":"Feature","properties":{"a":-0,"list":[],"obj":{}},"geometry":{"type":"MultiPoint","coordinates":[[1,2],[3,4,5,6]]}}"#,
        r#"{"type":"Feature","properties":{"a":9223372036854775808,"x":[1,"a"]},"geometry":{"type":"MultiLineString","coordinates":[[[1,2],[3,4]],[]]}}"#,
        r#"{"type":"Feature","properties":{"😀":"😀","a":1e5},"geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[0,1],[0,0]]]]}}"#,
        r#"{"type":"Feature","properties":{"d":{"f":1}},"geometry":{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2,3]},{"type":"LineString","coordinates":[[1,2],[3,4]]}]}}"#,
        r#"{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[]},"foreign":{"nested":[{"deep":[[]]}]}}"#,
        r#"{"type":"Feature","id":2.5,"properties":{"b":"{[,]}\"},{"},"geometry":{"type":"Point","coordinates":[1e-5,2E+2]}}"#,
    ];

    #[test]
    fn every_layout_reads_the_same() {
        let n = FEATURES.len();
        let ndjson = FEATURES.join("\n");
        let crlf = FEATURES.join("\r\n\r\n") + "\r\n";
        let rs: String = FEATURES.iter().map(|f| format!("\u{1e}{f}\n")).collect();
        let minified = format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            FEATURES.join(",")
        );
        let pretty = format!(
            "{{\n  \"name\": \"x\",\n  \"type\": \"FeatureCollection\",\n  \"features\": [\n    {}\n  ],\n  \"bbox\": [0, 0, 1, 1]\n}}\n",
            FEATURES.join(",\n    ")
        );
        let comma_first = format!("[\n{}\n]", FEATURES.join("\n,"));
        let bom = format!("\u{feff}{ndjson}");
        for text in [&ndjson, &crlf, &rs, &minified, &pretty, &comma_first, &bom] {
            let before = fast_readers();
            same_everywhere(text.as_bytes());
            // Every tuning took the fast path (the careful one is the reference).
            assert_eq!(fast_readers() - before, 5, "{text}");
            // And every feature became one row.
            let tuning = Tuning {
                chunk_bytes: 13,
                workers: 2,
            };
            let options = ReadOptions::default().with_tuning(Some(tuning));
            let reader = GeoJsonReader::try_from_reader(Cursor::new(text.as_bytes()), options)
                .expect("a readable input");
            assert_eq!(reader.num_features(), n as u64, "{text}");
            let rows: usize = reader.map(|b| b.expect("a batch").num_rows()).sum();
            assert_eq!(rows, n, "{text}");
        }
        // Bare geometries in a sequence, and one value spread over lines.
        same_everywhere(b"{\"type\":\"Point\",\"coordinates\":[1,2]}\n{\n  \"type\": \"Feature\",\n  \"properties\": {\"a\": 1},\n  \"geometry\": null\n}\n{\"coordinates\":[[1,2],[3,4]],\"type\":\"LineString\"}");
    }

    #[test]
    fn errors_are_the_careful_paths() {
        let bad: &[&[u8]] = &[
            b"{\"type\":\"Feature\",\"properties\":{},\"geometry\":null}\n{\"type\":\"Feature\",\"prop",
            b"{\"type\":\"Feature\",\"properties\":{\"a\":1e400},\"geometry\":null}",
            b"{\"type\":\"Feature\",\"properties\":{\"a\":01},\"geometry\":null}",
            b"{\"type\":\"Feature\",\"properties\":{\"a\":\"\\ud800\"},\"geometry\":null}",
            b"{\"type\":\"Feature\",\"properties\":{\"a\":\"\xff\"},\"geometry\":null}",
            b"{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Point\",\"coordinates\":[1]}}",
            b"{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Pointy\",\"coordinates\":[1,2]}}",
            b"{\"type\":\"Feature\",\"properties\":[],\"geometry\":null}",
            b"{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Point\",\"coordinates\":[1,2]}]}",
            b"{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{},\"geometry\":null},]}",
            b"{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{},\"geometry\":null}]} x",
            b"[{\"type\":\"Feature\",\"properties\":{},\"geometry\":null}{\"type\":\"Feature\",\"properties\":{},\"geometry\":null}]",
            b"[{\"type\":\"Feature\",\"properties\":{},\"geometry\":null}",
            b"{\"type\":\"Feature\",\"properties\":{\"a\":1,\"a\":\"x\"},\"geometry\":null}",
            b"{\"type\":\"FeatureCollection\",\"features\":[],\"features\":[{\"type\":\"Feature\",\"properties\":{\"z\":1},\"geometry\":null}]}",
            b"{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Point\",\"coordinates\":[1,2]}} 5",
        ];
        let before = fast_readers();
        for text in bad {
            same_everywhere(text);
        }
        assert_eq!(
            fast_readers(),
            before,
            "an error went unnoticed by the fast path"
        );
    }

    fn random_value(rng: &mut Rng, depth: u32) -> String {
        match rng.below(if depth > 2 { 7 } else { 9 }) {
            0 => "null".to_owned(),
            1 => ["true", "false"][rng.below(2) as usize].to_owned(),
            2 => format!("{}", rng.below(1000) as i64 - 500),
            3 => format!("{:?}", (rng.below(1_000_000) as f64) / 7.0),
            4 => format!("\"s{}\"", rng.below(100)),
            5 => "\"caf\\u00e9 \\\"q\\\"\"".to_owned(),
            6 => ["1e3", "-0", "12345678901234567890", "0.1"][rng.below(4) as usize].to_owned(),
            7 => format!(
                "[{}]",
                (0..rng.below(3))
                    .map(|_| random_value(rng, depth + 1))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            _ => format!(
                "{{{}}}",
                (0..rng.below(3))
                    .map(|i| format!("\"m{i}\":{}", random_value(rng, depth + 1)))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }

    fn random_geometry(rng: &mut Rng) -> String {
        let pos = |rng: &mut Rng| {
            if rng.below(5) == 0 {
                format!("[{},{},{}]", rng.below(360), rng.below(180), rng.below(9))
            } else {
                format!(
                    "[{}.25,{}.5]",
                    rng.below(360) as i64 - 180,
                    rng.below(180) as i64 - 90
                )
            }
        };
        match rng.below(5) {
            0 => "null".to_owned(),
            1 => format!("{{\"type\":\"Point\",\"coordinates\":{}}}", pos(rng)),
            2 => format!(
                "{{\"coordinates\":[{},{}],\"type\":\"LineString\"}}",
                pos(rng),
                pos(rng)
            ),
            3 => format!(
                "{{\"type\":\"Polygon\",\"coordinates\":[[{},{},{},{}]]}}",
                pos(rng),
                pos(rng),
                pos(rng),
                pos(rng)
            ),
            _ => format!(
                "{{\"type\":\"MultiPoint\",\"coordinates\":[{}]}}",
                (0..rng.below(4))
                    .map(|_| pos(rng))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }

    fn random_feature(rng: &mut Rng) -> String {
        let mut props = Vec::new();
        for k in 0..6 {
            if rng.below(2) == 0 {
                props.push(format!("\"p{k}\": {}", random_value(rng, 0)));
            }
        }
        if rng.below(50) == 0 {
            // A duplicate key: both paths must agree on it too.
            props.push(format!("\"p0\": {}", random_value(rng, 0)));
        }
        let id = match rng.below(4) {
            0 => String::new(),
            1 => format!("\"id\": {},", rng.below(100)),
            2 => format!("\"id\": \"f{}\",", rng.below(100)),
            _ => "\"id\": 1.5,".to_owned(),
        };
        let sep = ["", " ", "\n  "][rng.below(3) as usize];
        format!(
            "{{{sep}\"type\": \"Feature\",{sep}{id}\"properties\": {{{}}},{sep}\"geometry\": {}{sep}}}",
            props.join(", "),
            random_geometry(rng)
        )
    }

    #[test]
    fn random_inputs_read_the_same() {
        let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15);
        let before = fast_readers();
        for round in 0..60 {
            let features: Vec<String> = (0..rng.below(30))
                .map(|_| random_feature(&mut rng))
                .collect();
            let text = match round % 3 {
                0 => features.join("\n"),
                1 => format!(
                    "{{\"type\": \"FeatureCollection\", \"features\": [\n{}\n]}}",
                    features.join(",\n")
                ),
                _ => format!("[{}]", features.join(", ")),
            };
            same_everywhere(text.as_bytes());
        }
        // Most inputs took the fast path (duplicate keys make some careful).
        assert!(fast_readers() - before > 150, "{}", fast_readers() - before);
    }

    #[test]
    fn a_panicking_parse_stage_is_an_error_not_an_early_end() {
        let mut text = Vec::new();
        for i in 0..2000 {
            text.extend_from_slice(
                format!(
                    "{{\"type\":\"Feature\",\"geometry\":null,\"properties\":{{\"i\":{i}}}}}\n"
                )
                .as_bytes(),
            );
        }
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, &text).unwrap();
        let tuning = Tuning {
            chunk_bytes: 4096,
            workers: 3,
        };
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let calls = Arc::new(calls);
        let seen = Arc::clone(&calls);
        let parse: Arc<ParseFn<()>> = Arc::new(move |bytes: &[u8]| {
            let n = seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            assert!(n != 5, "parser bug on chunk {n}");
            let (start, end, _) = learn(bytes, Mode::Sequence);
            (start, end, ())
        });
        let mut ordered = Ordered::new(&file, 0, Mode::Sequence, tuning, parse).unwrap();
        let mut failure = None;
        while let Some(r) = ordered.next_result() {
            if let Err(e) = r {
                failure = Some(e);
                break;
            }
        }
        match failure {
            Some(Fail::Io(e)) => assert!(e.to_string().contains("parser bug"), "{e}"),
            Some(Fail::Bail) => panic!("a panic is not a reason to bail to the careful path"),
            None => panic!("the reader ended early without an error"),
        }
    }

    #[test]
    fn cuts_fall_where_features_start() {
        let seq = Mode::Sequence;
        let arr = Mode::Elements {
            in_collection: true,
        };
        assert_eq!(find_cut(b"{\"a\":1}\n{\"b\":2}\n", seq), Some(8));
        assert_eq!(find_cut(b"{\"a\":1}{\"b\":2}", seq), Some(7));
        assert_eq!(find_cut(b"{\"a\":\n  {\"b\":2}", seq), None);
        assert_eq!(find_cut(b"[{\"a\":1},\n  {\"b\":2}", arr), Some(12));
        assert_eq!(find_cut(b"[{\"a\":1}\n, {\"b\":2}", arr), Some(11));
        assert_eq!(find_cut(b"[{\"a\":1},{\"b\":2}", arr), Some(9));
        assert_eq!(find_cut(b"{\"a\":1}", arr), None);
    }
}
