//! The one place where outputs and scratch files are created.
//!
//! Every writer of the workspace (GeoParquet, GeoJSON, STAC, RaQuet, SlideRule) creates its
//! output through [`Output`]:
//!
//! - **The destination is checked before any work** ([`check_destination`]): a path that does
//!   not exist yet or a regular file is fine; a symbolic link is followed (the file it points
//!   to is replaced, the link stays a link); a directory, character or block device, FIFO or
//!   socket is refused with [`Error::NotRegularOutput`]: it is never replaced nor written
//!   through. (`-`, standard output, is the callers' business.)
//! - **The file is written beside its destination** (same folder, so the final rename is
//!   atomic), with the permissions a new file gets (0666 less the umask) or, when it
//!   replaces a file, that file's permissions. On Linux it is an unnamed file
//!   (`O_TMPFILE`) until it is complete: then it is linked as a hidden
//!   `.geoquet-XXXXXX.tmp` and renamed over the destination at once, so that even
//!   SIGKILL or an abort leaves nothing behind. Where the file system cannot do that, it
//!   is a hidden named file from the start (registered, see below). Either way it is put
//!   in place by [`Output::persist`] only when complete; an error or a drop removes it and
//!   leaves the destination as it was.
//! - **Write errors name the destination**: [`Output::writer`] hands out a handle that
//!   remembers the first I/O error, and [`Output::finish`] turns a failed write into
//!   [`Error::Io`] naming the output (`out.parquet: No space left on device`), whatever
//!   the encoder made of it.
//! - **Interrupted runs leave nothing**: every named temporary file is registered in a
//!   process-wide list that [`remove_temporaries`] deletes (the CLI calls it on SIGINT and
//!   SIGTERM). Scratch files that need no name ([`scratch_file`]: sort runs, spills) are
//!   unnamed (`O_TMPFILE` on Linux), so that even SIGKILL leaves nothing; those that need a
//!   path ([`ScratchPath`]: a download, a copy of standard input) are registered.
//!
//! ```
//! use std::io::Write;
//! use geoparquet_io::output::Output;
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("out.txt");
//! let out = Output::create(&path)?;
//! let mut w = out.writer()?;
//! let result = w.write_all(b"hello").map_err(|source| geoparquet_io::Error::Io {
//!     path: path.clone(),
//!     source,
//! });
//! out.finish(result)?;
//! assert_eq!(std::fs::read(&path)?, b"hello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::{Error, Result};

/// Named temporary files alive in this process, by registration number.
static LIVE: Mutex<BTreeMap<u64, PathBuf>> = Mutex::new(BTreeMap::new());
/// The next registration number.
static NEXT: AtomicU64 = AtomicU64::new(0);
/// Set by [`remove_temporaries`]: no new temporary file may be created after it.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// What messages call named scratch files (path as printed, name), kept after the files
/// are gone: an error may be printed after its input's copy was removed.
static SHOWN: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// How many symbolic links are followed before giving up (as Linux's `ELOOP`).
const MAX_LINKS: usize = 40;

fn live() -> MutexGuard<'static, BTreeMap<u64, PathBuf>> {
    // A panic while the lock was held leaves the map usable: it is a plain list.
    LIVE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn interrupted(path: &Path) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(
            std::io::ErrorKind::Interrupted,
            "interrupted: temporary files are being removed",
        ),
    }
}

/// Deletes every registered temporary file (outputs being written, named scratch files)
/// and refuses new ones from then on; returns how many were removed. Meant for a signal
/// handler's thread just before the process exits.
pub fn remove_temporaries() -> usize {
    let mut live = live();
    CLOSED.store(true, Ordering::SeqCst);
    let mut removed = 0;
    for path in std::mem::take(&mut *live).into_values() {
        if std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// The paths of the registered temporary files (for tests and diagnostics).
pub fn temporaries() -> Vec<PathBuf> {
    live().values().cloned().collect()
}

/// What a non-regular file is, for messages.
fn kind_of(ft: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    if ft.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Checks that `path` may receive an output and returns the file that will be replaced
/// or created: `path` itself, or, for a symbolic link, the file it finally points to.
/// A directory, device, FIFO or socket (also behind a link) is refused with
/// [`Error::NotRegularOutput`]; a link loop with [`Error::Io`].
pub fn check_destination(path: &Path) -> Result<PathBuf> {
    let mut at = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        let meta = match std::fs::symlink_metadata(&at) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(at),
            Err(source) => {
                return Err(Error::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let ft = meta.file_type();
        if ft.is_file() {
            return Ok(at);
        }
        if !ft.is_symlink() {
            return Err(Error::NotRegularOutput {
                path: path.to_path_buf(),
                kind: kind_of(ft),
            });
        }
        let link = std::fs::read_link(&at).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        at = match at.parent() {
            Some(dir) if link.is_relative() => dir.join(link),
            _ => link,
        };
    }
    Err(Error::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other("too many levels of symbolic links"),
    })
}

/// The folder of `path` (`.` for a bare file name).
fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The first I/O error seen by an [`OutputWriter`], shared with its [`Output`].
type Failure = Arc<Mutex<Option<std::io::Error>>>;

/// An output being written: a hidden temporary file beside its destination, renamed into
/// place by [`Output::persist`] (see the [module docs](self)). Dropping it removes the
/// temporary file and leaves the destination untouched.
#[derive(Debug)]
pub struct Output {
    /// The destination as the caller named it (for messages).
    dest: PathBuf,
    /// The file that will be replaced (the destination, or a link's target).
    target: PathBuf,
    /// The temporary file (removed on drop).
    tmp: Option<Temp>,
    file: File,
    id: u64,
    failure: Failure,
}

impl Output {
    /// Checks `dest` ([`check_destination`]) and creates the temporary file beside the file
    /// that will be replaced. Errors name `dest`.
    pub fn create(dest: &Path) -> Result<Self> {
        let target = check_destination(dest)?;
        let io = |source| Error::Io {
            path: dest.to_path_buf(),
            source,
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(".geoquet-").suffix(".tmp");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // 0666 less the umask, as for any new file (tempfile's default is 0600).
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        let folder = folder_of(&target);
        // Created and registered under the lock: a signal handler removing the
        // temporaries sees either no file or a registered one.
        let (file, tmp) = {
            let mut live = live();
            if CLOSED.load(Ordering::SeqCst) {
                return Err(interrupted(dest));
            }
            match unnamed_in(&folder) {
                Some(file) => (file, Temp::Unnamed(folder)),
                None => {
                    let named = builder.tempfile_in(&folder).map_err(io)?;
                    let (file, tmp) = named.into_parts();
                    let _ = live.insert(id, tmp.to_path_buf());
                    (file, Temp::Named(tmp))
                }
            }
        };
        let out = Self {
            dest: dest.to_path_buf(),
            target,
            tmp: Some(tmp),
            file,
            id,
            failure: Arc::new(Mutex::new(None)),
        };
        // Replacing a file keeps its permissions.
        if let Ok(meta) = std::fs::metadata(&out.target) {
            out.file
                .set_permissions(meta.permissions())
                .map_err(|source| Error::Io {
                    path: dest.to_path_buf(),
                    source,
                })?;
        }
        Ok(out)
    }

    /// The destination as given to [`Output::create`].
    pub fn path(&self) -> &Path {
        &self.dest
    }

    /// The file that [`Output::persist`] replaces: the destination, or the file a
    /// symbolic link at the destination points to.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The temporary file's own handle (writes through it are not watched for errors:
    /// prefer [`Output::writer`]).
    pub fn file(&self) -> &File {
        &self.file
    }

    /// A new handle on the temporary file (its own position from the start) that
    /// remembers the first I/O error, so that [`Output::finish`] can name the output.
    pub fn writer(&self) -> Result<OutputWriter> {
        OutputWriter::over(&self.file, &self.failure).map_err(|source| Error::Io {
            path: self.dest.clone(),
            source,
        })
    }

    /// The first I/O error a writer of this output met, as [`Error::Io`] naming the
    /// destination (taken: a second call gives `None`).
    pub fn write_error(&self) -> Option<Error> {
        OutputWriter::take_failure(&self.failure).map(|source| Error::Io {
            path: self.dest.clone(),
            source,
        })
    }

    /// Renames the complete temporary file over the destination (the target of a link).
    pub fn persist(mut self) -> Result<()> {
        if let Some(e) = self.write_error() {
            return Err(e);
        }
        let io = |source| Error::Io {
            path: self.dest.clone(),
            source,
        };
        // Named, renamed and unregistered under the lock: a signal handler removing the
        // temporaries waits for the rename and never sees an unregistered name.
        let mut live = live();
        let tmp = match self.tmp.take() {
            None => return Ok(()),
            Some(Temp::Named(tmp)) => tmp,
            // Given a name only now, renamed at once.
            Some(Temp::Unnamed(folder)) => name_unnamed(&self.file, &folder).map_err(io)?,
        };
        let _ = live.remove(&self.id);
        tmp.persist(&self.target).map_err(|e| io(e.error))?;
        Ok(())
    }

    /// Ends a write: persists the output when `result` is `Ok`, else removes it and
    /// returns the error, replaced by the write error naming the output when a writer
    /// met one (a full disk reads `OUT: No space left on device`, not an encoder's
    /// wrapped message).
    pub fn finish<T, E: From<Error>>(
        self,
        result: std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        match result {
            Ok(v) => {
                self.persist()?;
                Ok(v)
            }
            Err(e) => Err(self.write_error().map_or(e, E::from)),
        }
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        if let Some(Temp::Named(tmp)) = self.tmp.take() {
            let mut live = live();
            let _ = live.remove(&self.id);
            drop(tmp);
        }
    }
}

/// An output's temporary file.
#[derive(Debug)]
enum Temp {
    /// A hidden named file beside the target (registered; removed on drop).
    Named(tempfile::TempPath),
    /// An unnamed file (`O_TMPFILE`) in this folder: nothing to remove.
    Unnamed(PathBuf),
}

/// An unnamed file in `folder` (Linux `O_TMPFILE`, 0666 less the umask), or `None`
/// where the system or the file system cannot make one.
#[cfg(target_os = "linux")]
fn unnamed_in(folder: &Path) -> Option<File> {
    use rustix::fs::{CWD, Mode, OFlags};
    let fd = rustix::fs::openat(
        CWD,
        folder,
        OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o666),
    )
    .ok()?;
    Some(File::from(fd))
}

#[cfg(not(target_os = "linux"))]
fn unnamed_in(_folder: &Path) -> Option<File> {
    None
}

/// Gives a complete unnamed file a hidden name in `folder` (`linkat` through
/// `/proc/self/fd`, else `AT_EMPTY_PATH`, else a copy into a named file).
#[cfg(target_os = "linux")]
fn name_unnamed(file: &File, folder: &Path) -> std::io::Result<tempfile::TempPath> {
    use rustix::fs::{AtFlags, CWD};
    use std::os::fd::AsRawFd;
    let proc_path = format!("/proc/self/fd/{}", file.as_raw_fd());
    let pid = std::process::id();
    for attempt in 0..64u32 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = folder.join(format!(".geoquet-{pid:x}-{nanos:08x}-{attempt}.tmp"));
        let linked =
            rustix::fs::linkat(CWD, proc_path.as_str(), CWD, &name, AtFlags::SYMLINK_FOLLOW)
                .or_else(|_| rustix::fs::linkat(file, "", CWD, &name, AtFlags::EMPTY_PATH));
        match linked {
            Ok(()) => return tempfile::TempPath::try_from_path(name),
            Err(rustix::io::Errno::EXIST) => continue,
            Err(_) => break,
        }
    }
    // No way to link it: copy it into a named file.
    let mut builder = tempfile::Builder::new();
    builder.prefix(".geoquet-").suffix(".tmp");
    let mut named = builder.tempfile_in(folder)?;
    let mut from = file.try_clone()?;
    let _ = from.seek(SeekFrom::Start(0))?;
    let _ = std::io::copy(&mut from, named.as_file_mut())?;
    named
        .as_file()
        .set_permissions(file.metadata()?.permissions())?;
    Ok(named.into_temp_path())
}

#[cfg(not(target_os = "linux"))]
fn name_unnamed(_file: &File, _folder: &Path) -> std::io::Result<tempfile::TempPath> {
    Err(std::io::Error::other(
        "unnamed temporary files are Linux-only",
    ))
}

/// A handle on an [`Output`]'s temporary file that remembers the first I/O error.
#[derive(Debug)]
pub struct OutputWriter {
    file: File,
    failure: Failure,
}

impl OutputWriter {
    /// A new handle on `file`, from its start, reporting its first error to `failure`.
    fn over(file: &File, failure: &Failure) -> std::io::Result<Self> {
        let mut file = file.try_clone()?;
        let _ = file.seek(SeekFrom::Start(0))?;
        Ok(Self {
            file,
            failure: failure.clone(),
        })
    }

    /// The first error a writer met (taken: a second call gives `None`).
    fn take_failure(failure: &Failure) -> Option<std::io::Error> {
        failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    fn watch<T>(&self, r: std::io::Result<T>) -> std::io::Result<T> {
        r.map_err(|e| {
            let mut f = self
                .failure
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if f.is_some() {
                return e;
            }
            // Keep the original; hand the caller an equal one.
            let copy = match e.raw_os_error() {
                Some(code) => std::io::Error::from_raw_os_error(code),
                None => std::io::Error::new(e.kind(), e.to_string()),
            };
            *f = Some(e);
            copy
        })
    }
}

impl Write for OutputWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let r = self.file.write(buf);
        self.watch(r)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let r = self.file.write_all(buf);
        self.watch(r)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let r = self.file.flush();
        self.watch(r)
    }
}

impl Seek for OutputWriter {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        let r = self.file.seek(pos);
        self.watch(r)
    }
}

/// The temporary directory: `dir`, else `TMPDIR` / the system default.
fn temp_dir(dir: Option<&Path>) -> PathBuf {
    dir.map_or_else(std::env::temp_dir, Path::to_path_buf)
}

/// An unnamed scratch file in `dir` (default: the system temporary directory): it has no
/// name (`O_TMPFILE` on Linux, else removed right after creation), so nothing is left
/// behind whatever ends the process. Errors are [`Error::TempDir`] naming the folder.
pub fn scratch_file(dir: Option<&Path>) -> Result<File> {
    let dir = temp_dir(dir);
    tempfile::tempfile_in(&dir).map_err(|source| Error::TempDir { dir, source })
}

/// A named scratch file, for inputs that must be read by path (a download, a copy of
/// standard input): registered for [`remove_temporaries`] and removed on drop.
#[derive(Debug)]
pub struct ScratchPath {
    tmp: tempfile::NamedTempFile,
    id: u64,
    failure: Failure,
}

impl ScratchPath {
    /// Creates one in `dir` (default: the system temporary directory), its name starting
    /// with `prefix`. Errors are [`Error::TempDir`] naming the folder.
    pub fn new_in(dir: Option<&Path>, prefix: &str) -> Result<Self> {
        let dir = temp_dir(dir);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        let mut live = live();
        if CLOSED.load(Ordering::SeqCst) {
            return Err(interrupted(&dir));
        }
        let tmp = tempfile::Builder::new()
            .prefix(prefix)
            .tempfile_in(&dir)
            .map_err(|source| Error::TempDir { dir, source })?;
        let _ = live.insert(id, tmp.path().to_path_buf());
        Ok(Self {
            tmp,
            id,
            failure: Arc::new(Mutex::new(None)),
        })
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Its file (opened for reading and writing).
    pub fn file_mut(&mut self) -> &mut File {
        self.tmp.as_file_mut()
    }

    /// A new handle on the file (from the start) that remembers the first I/O error, for
    /// [`ScratchPath::write_error`].
    pub fn writer(&self) -> Result<OutputWriter> {
        OutputWriter::over(self.tmp.as_file(), &self.failure).map_err(|source| Error::TempDir {
            dir: folder_of(self.path()),
            source,
        })
    }

    /// The first I/O error a [`ScratchPath::writer`] met, as [`Error::TempDir`] naming
    /// the folder (a full temporary directory), taken.
    pub fn write_error(&self) -> Option<Error> {
        OutputWriter::take_failure(&self.failure).map(|source| Error::TempDir {
            dir: folder_of(self.path()),
            source,
        })
    }

    /// Says what the file stands for ("standard input", a URL): [`with_input_names`]
    /// puts `name` where a message names this file's path.
    pub fn show_as(&self, name: &str) {
        SHOWN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((self.path().display().to_string(), name.to_owned()));
    }
}

/// `message` with the paths of named scratch files replaced by what they stand for
/// (see [`ScratchPath::show_as`]): a hidden copy of standard input reads "standard
/// input", a download its URL.
pub fn with_input_names(message: &str) -> String {
    let shown = SHOWN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut out = message.to_owned();
    for (path, name) in shown.iter() {
        if out.contains(path.as_str()) {
            out = out.replace(path.as_str(), name);
        }
    }
    out
}

impl Drop for ScratchPath {
    fn drop(&mut self) {
        // Unregistered here; the file itself is removed when `tmp` drops right after.
        let _ = live().remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn output_is_atomic_and_registered() -> TestResult {
        let dir = tempfile::tempdir()?;
        let dest = dir.path().join("a.bin");
        std::fs::write(&dest, b"old")?;
        let out = Output::create(&dest)?;
        let mut w = out.writer()?;
        w.write_all(b"new")?;
        let tmp = temporaries();
        let entries = std::fs::read_dir(dir.path())?.count();
        match &out.tmp {
            // Unnamed: nothing to see in the folder, nothing registered.
            Some(Temp::Unnamed(_)) => {
                assert_eq!(entries, 1);
                assert!(!tmp.iter().any(|p| p.starts_with(dir.path())), "{tmp:?}");
            }
            // Named: beside the destination and registered.
            _ => {
                assert_eq!(entries, 2);
                assert!(tmp.iter().any(|p| p.starts_with(dir.path())), "{tmp:?}");
            }
        }
        assert_eq!(std::fs::read(&dest)?, b"old");
        drop(out);
        assert_eq!(std::fs::read(&dest)?, b"old");
        assert_eq!(std::fs::read_dir(dir.path())?.count(), 1);
        let out = Output::create(&dest)?;
        out.writer()?.write_all(b"new")?;
        out.persist()?;
        assert_eq!(std::fs::read(&dest)?, b"new");
        assert!(!temporaries().iter().any(|p| p.starts_with(dir.path())));
        Ok(())
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn on_linux_an_output_has_no_name_until_it_is_complete() -> TestResult {
        let dir = tempfile::tempdir()?;
        let dest = dir.path().join("a.bin");
        let out = Output::create(&dest)?;
        assert!(matches!(out.tmp, Some(Temp::Unnamed(_))), "{:?}", out.tmp);
        out.writer()?.write_all(b"data")?;
        assert_eq!(std::fs::read_dir(dir.path())?.count(), 0);
        out.persist()?;
        assert_eq!(std::fs::read(&dest)?, b"data");
        assert_eq!(std::fs::read_dir(dir.path())?.count(), 1);
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn non_regular_destinations_are_refused_and_links_followed() -> TestResult {
        let dir = tempfile::tempdir()?;
        // A directory.
        let e = Output::create(dir.path()).err();
        assert!(
            matches!(
                e,
                Some(Error::NotRegularOutput {
                    kind: "a directory",
                    ..
                })
            ),
            "{e:?}"
        );
        // A device (always present on Unix).
        let e = Output::create(Path::new("/dev/null")).err();
        assert!(
            matches!(
                e,
                Some(Error::NotRegularOutput {
                    kind: "a character device",
                    ..
                })
            ),
            "{e:?}"
        );
        // A link to a device is refused too; a link to a file replaces the file.
        let link = dir.path().join("null.parquet");
        std::os::unix::fs::symlink("/dev/null", &link)?;
        assert!(Output::create(&link).is_err());
        let real = dir.path().join("real.bin");
        std::fs::write(&real, b"old")?;
        let link2 = dir.path().join("link.bin");
        std::os::unix::fs::symlink("real.bin", &link2)?;
        let out = Output::create(&link2)?;
        assert_eq!(out.target(), dir.path().join("real.bin"));
        out.writer()?.write_all(b"new")?;
        out.persist()?;
        assert!(std::fs::symlink_metadata(&link2)?.file_type().is_symlink());
        assert_eq!(std::fs::read(&real)?, b"new");
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn permissions_are_those_of_a_new_file_or_of_the_replaced_one() -> TestResult {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        let plain = dir.path().join("plain.bin");
        std::fs::write(&plain, b"x")?;
        let expected = std::fs::metadata(&plain)?.permissions().mode() & 0o777;
        let dest = dir.path().join("new.bin");
        let out = Output::create(&dest)?;
        out.persist()?;
        let mode = std::fs::metadata(&dest)?.permissions().mode() & 0o777;
        assert_eq!(mode, expected);
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o640))?;
        let out = Output::create(&dest)?;
        out.persist()?;
        let mode = std::fs::metadata(&dest)?.permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        Ok(())
    }

    #[test]
    fn write_errors_name_the_output() {
        let dir = tempfile::tempdir().expect("tempdir");
        let dest = dir.path().join("full.bin");
        let out = Output::create(&dest).expect("create");
        let w = out.writer().expect("writer");
        // What a full disk gives a writer.
        let seen = w.watch::<()>(Err(std::io::Error::from_raw_os_error(28)));
        assert_eq!(seen.err().and_then(|e| e.raw_os_error()), Some(28));
        let wrapped: Result<()> = Err(Error::Arrow(arrow_schema::ArrowError::ExternalError(
            "encoder failed".into(),
        )));
        let e = out
            .finish(wrapped)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.starts_with(&dest.display().to_string()), "{e}");
        assert!(e.contains("No space left on device"), "{e}");
        assert!(!dest.exists());
    }

    #[test]
    fn messages_name_scratch_files_by_what_they_stand_for() -> TestResult {
        let tmp = ScratchPath::new_in(None, ".geoquet-test-")?;
        tmp.show_as("standard input");
        let msg = format!("{}: line 3: not JSON", tmp.path().display());
        assert_eq!(with_input_names(&msg), "standard input: line 3: not JSON");
        assert_eq!(with_input_names("other.json: bad"), "other.json: bad");
        Ok(())
    }

    #[test]
    fn scratch_errors_name_the_temporary_directory() {
        let missing = Path::new("/nonexistent-geoquet-tmp");
        let e = scratch_file(Some(missing))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("temporary directory /nonexistent-geoquet-tmp"),
            "{e}"
        );
        let e = ScratchPath::new_in(Some(missing), "x")
            .err()
            .map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("temporary directory")));
    }
}
