//! The one place that starts worker threads, for every crate of the workspace.
//!
//! Three shapes cover what the readers, writers and converters need:
//!
//! - [`scope`] with [`Scope::spawn`]: named scoped threads whose [`Handle::join`]
//!   gives `Result<T, WorkerPanic>`; a panic that nobody joined is also a
//!   [`WorkerPanic`] from `scope` itself, never a crash of the process;
//! - [`map_ordered`]: a parallel map over an iterator, results handed to a sink in
//!   input order, with at most `in_flight` inputs taken and not yet consumed, so
//!   memory stays bounded whatever the input size;
//! - [`prefetch`]: an iterator produced on a thread of its own, a bounded number of
//!   items ahead of the consumer (reading overlaps writing);
//! - [`spawn_detached`] with [`catch`]: a pipeline stage on a thread of its own that
//!   talks to its consumer over channels and sends its own panics on.
//!
//! A worker's panic becomes [`WorkerPanic`] (the task's name and the panic message);
//! each crate maps it to its own `Error::WorkerPanicked { task, message }`, so that a
//! bug is reported as a bug and never as bad input.

use std::any::Any;
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;

/// A worker thread panicked, or could not be started.
///
/// ```
/// let failed = geoparquet_io::workers::scope(|s| {
///     s.spawn("doomed", || -> u32 { panic!("bug") }).join()
/// })
/// .and_then(|joined| joined);
/// let panic = failed.unwrap_err();
/// assert_eq!(panic.task, "doomed");
/// assert_eq!(panic.message, "bug");
/// assert_eq!(panic.to_string(), "worker thread \"doomed\" panicked: bug");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("worker thread \"{task}\" panicked: {message}")]
pub struct WorkerPanic {
    /// What the thread was doing (its name).
    pub task: &'static str,
    /// The panic message (or why the thread could not start).
    pub message: String,
}

impl WorkerPanic {
    /// From a panic payload, as `catch_unwind` or `JoinHandle::join` give it.
    ///
    /// ```
    /// use geoparquet_io::workers::WorkerPanic;
    ///
    /// let payload = std::panic::catch_unwind(|| panic!("index {} out of range", 3)).unwrap_err();
    /// assert_eq!(WorkerPanic::from_payload("t", &*payload).message, "index 3 out of range");
    /// ```
    pub fn from_payload(task: &'static str, payload: &(dyn Any + Send)) -> Self {
        Self {
            task,
            message: panic_message(payload),
        }
    }
}

/// The text of a panic payload (`&str` or `String`; `"(no message)"` for anything else).
///
/// ```
/// let payload = std::panic::catch_unwind(|| panic!("boom")).unwrap_err();
/// assert_eq!(geoparquet_io::workers::panic_message(&*payload), "boom");
/// ```
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_owned()
    }
}

/// Runs `f` with a [`Scope`] in which named worker threads borrow from the caller;
/// all of them are joined before `scope` returns.
///
/// Join every [`Handle`] you need a result from. A thread that panicked and was not
/// joined, or a panic of `f` itself, makes `scope` return `Err` rather than
/// unwinding into the caller.
///
/// ```
/// let data = vec![1u64, 2, 3, 4];
/// let (left, right) = data.split_at(2);
/// let total = geoparquet_io::workers::scope(|s| -> Result<u64, geoparquet_io::workers::WorkerPanic> {
///     let a = s.spawn("left half", || left.iter().sum::<u64>());
///     let b: u64 = right.iter().sum();
///     Ok(a.join()? + b)
/// })??;
/// assert_eq!(total, 10);
/// # Ok::<(), geoparquet_io::workers::WorkerPanic>(())
/// ```
pub fn scope<'env, F, T>(f: F) -> Result<T, WorkerPanic>
where
    F: for<'scope> FnOnce(Scope<'scope, 'env>) -> T,
{
    catch_unwind(AssertUnwindSafe(|| {
        std::thread::scope(|inner| f(Scope { inner }))
    }))
    .map_err(|payload| WorkerPanic::from_payload("scope", &*payload))
}

/// Where [`scope`]'s threads are started (a copyable handle on `std::thread::Scope`).
#[derive(Debug, Clone, Copy)]
pub struct Scope<'scope, 'env> {
    inner: &'scope std::thread::Scope<'scope, 'env>,
}

impl<'scope, 'env> Scope<'scope, 'env> {
    /// Starts a thread named `task` running `f`. A thread that cannot be started
    /// (the system refused) yields its reason from [`Handle::join`].
    pub fn spawn<F, T>(self, task: &'static str, f: F) -> Handle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        let started = std::thread::Builder::new()
            .name(task.to_owned())
            .spawn_scoped(self.inner, f);
        Handle {
            task,
            inner: started.map_err(|e| e.to_string()),
        }
    }
}

/// A thread started by [`Scope::spawn`].
#[derive(Debug)]
pub struct Handle<'scope, T> {
    task: &'static str,
    inner: Result<std::thread::ScopedJoinHandle<'scope, T>, String>,
}

impl<T> Handle<'_, T> {
    /// Waits for the thread: its result, or its panic as a [`WorkerPanic`].
    pub fn join(self) -> Result<T, WorkerPanic> {
        let task = self.task;
        let handle = self.inner.map_err(|e| WorkerPanic {
            task,
            message: format!("the thread could not be started: {e}"),
        })?;
        handle
            .join()
            .map_err(|payload| WorkerPanic::from_payload(task, &*payload))
    }
}

/// Starts a detached thread named `task` running `f`, for a pipeline stage that
/// hands its results (and its failures) to its consumer over channels and ends
/// when they close. `f` is run under `catch_unwind`: a panic ends the thread (its
/// channels close) and is otherwise dropped, so a stage whose consumer must know of
/// a panic catches it itself (see [`catch`]) and sends it on.
///
/// ```
/// let (tx, rx) = std::sync::mpsc::channel();
/// geoparquet_io::workers::spawn_detached("count", move || {
///     for i in 0..3u32 {
///         let _ = tx.send(i);
///     }
/// })?;
/// assert_eq!(rx.iter().collect::<Vec<_>>(), vec![0, 1, 2]);
/// # Ok::<(), geoparquet_io::workers::WorkerPanic>(())
/// ```
///
/// # Errors
///
/// A [`WorkerPanic`] saying why the thread could not be started.
pub fn spawn_detached(
    task: &'static str,
    f: impl FnOnce() + Send + 'static,
) -> Result<(), WorkerPanic> {
    std::thread::Builder::new()
        .name(task.to_owned())
        .spawn(move || {
            let _ = catch_unwind(AssertUnwindSafe(f));
        })
        .map(drop)
        .map_err(|e| WorkerPanic {
            task,
            message: format!("the thread could not be started: {e}"),
        })
}

/// Runs `f`, turning its panic into a [`WorkerPanic`] of `task` (for work on a
/// thread of [`spawn_detached`] whose consumer must learn of the panic).
///
/// ```
/// use geoparquet_io::workers::catch;
///
/// assert_eq!(catch("add", || 2 + 2), Ok(4));
/// assert_eq!(catch("fail", || -> u8 { panic!("bad") }).unwrap_err().message, "bad");
/// ```
///
/// # Errors
///
/// The panic of `f`.
pub fn catch<T>(task: &'static str, f: impl FnOnce() -> T) -> Result<T, WorkerPanic> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| WorkerPanic::from_payload(task, &*p))
}

/// A counting semaphore that can be closed (waiters then give up).
struct Tickets {
    state: Mutex<(usize, bool)>,
    freed: Condvar,
}

impl Tickets {
    fn new(n: usize) -> Self {
        Self {
            state: Mutex::new((n, false)),
            freed: Condvar::new(),
        }
    }

    /// Takes a ticket; false once closed.
    fn take(&self) -> bool {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if s.1 {
                return false;
            }
            if s.0 > 0 {
                s.0 -= 1;
                return true;
            }
            s = self.freed.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn give(&self) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        s.0 += 1;
        self.freed.notify_one();
    }

    fn close(&self) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        s.1 = true;
        self.freed.notify_all();
    }
}

/// Applies `f` to every item of `inputs` on `threads` worker threads (named `task`)
/// and hands the results to `sink` in input order, on the calling thread.
///
/// At most `in_flight` items (at least `threads`) are taken from `inputs` and not yet
/// given to `sink`: memory stays bounded by `in_flight` inputs and results. The
/// input iterator is advanced by the workers, one at a time. The first error of
/// `sink` stops the workers (items already taken finish) and is returned; a panic
/// of `f` or of the input iterator is returned as `E::from(WorkerPanic)`, after the
/// results before it were given to `sink`. With `threads` ≤ 1 everything runs on the
/// calling thread, in order.
///
/// ```
/// use geoparquet_io::workers::{WorkerPanic, map_ordered};
///
/// let mut squares = Vec::new();
/// map_ordered("square", 3, 8, 1..=100u64, |i| i * i, |sq| {
///     squares.push(sq);
///     Ok::<(), WorkerPanic>(())
/// })?;
/// assert_eq!(squares.len(), 100);
/// assert!(squares.windows(2).all(|w| w[0] < w[1]), "in input order");
///
/// let failed = map_ordered("checked", 2, 4, 0..10u32, |i| 10 / (5 - i), |_| Ok::<(), WorkerPanic>(()));
/// assert_eq!(failed.unwrap_err().task, "checked");
/// # Ok::<(), WorkerPanic>(())
/// ```
pub fn map_ordered<I, T, R, F, S, E>(
    task: &'static str,
    threads: usize,
    in_flight: usize,
    inputs: I,
    f: F,
    mut sink: S,
) -> Result<(), E>
where
    I: Iterator<Item = T> + Send,
    T: Send,
    R: Send,
    F: Fn(T) -> R + Sync,
    S: FnMut(R) -> Result<(), E>,
    E: From<WorkerPanic>,
{
    if threads <= 1 {
        let mut inputs = inputs;
        loop {
            let next = catch_unwind(AssertUnwindSafe(|| inputs.next().map(&f)))
                .map_err(|p| WorkerPanic::from_payload(task, &*p))?;
            match next {
                Some(r) => sink(r)?,
                None => return Ok(()),
            }
        }
    }
    let in_flight = in_flight.max(threads);
    let tickets = Tickets::new(in_flight);
    let source = Mutex::new((0u64, inputs));
    let (tx, rx) = sync_channel::<(u64, std::thread::Result<R>)>(in_flight);
    let run = scope(|s| -> Result<(), E> {
        let mut handles = Vec::with_capacity(threads);
        for _ in 0..threads {
            let tx = tx.clone();
            let (tickets, source, f) = (&tickets, &source, &f);
            handles.push(s.spawn(task, move || {
                while tickets.take() {
                    let taken = {
                        let mut src = source.lock().unwrap_or_else(PoisonError::into_inner);
                        let index = src.0;
                        match catch_unwind(AssertUnwindSafe(|| src.1.next())) {
                            Ok(Some(item)) => {
                                src.0 += 1;
                                Some((index, Ok(item)))
                            }
                            Ok(None) => None,
                            Err(p) => Some((index, Err(p))),
                        }
                    };
                    let Some((index, item)) = taken else {
                        tickets.close();
                        return;
                    };
                    let result = match item {
                        Ok(item) => catch_unwind(AssertUnwindSafe(|| f(item))),
                        Err(p) => Err(p),
                    };
                    let failed = result.is_err();
                    if tx.send((index, result)).is_err() || failed {
                        tickets.close();
                        return;
                    }
                }
            }));
        }
        drop(tx);
        let mut pending = BTreeMap::new();
        let mut next = 0u64;
        let outcome = (|| -> Result<(), E> {
            for (index, result) in &rx {
                pending.insert(index, result);
                while let Some(result) = pending.remove(&next) {
                    next += 1;
                    match result {
                        Ok(r) => {
                            tickets.give();
                            sink(r)?;
                        }
                        Err(p) => return Err(WorkerPanic::from_payload(task, &*p).into()),
                    }
                }
            }
            // Every sender is gone: an index left pending means an earlier one
            // never came, which only a panic of the channel machinery could cause.
            match pending.into_iter().next() {
                Some((_, Err(p))) => Err(WorkerPanic::from_payload(task, &*p).into()),
                Some((index, Ok(_))) => Err(WorkerPanic {
                    task,
                    message: format!("result {next} never arrived (got {index})"),
                }
                .into()),
                None => Ok(()),
            }
        })();
        tickets.close();
        drop(rx);
        for h in handles {
            h.join()?;
        }
        outcome
    });
    run?
}

/// Items of an iterator produced on a background thread (named `task`), at most
/// `depth` ahead of the consumer, so that memory stays bounded: reading and decoding
/// one batch then overlap with encoding and compressing the previous one.
///
/// A panic of the producer ends the items with `Err(WorkerPanic)`, so that a bug
/// never passes for a shorter output.
///
/// ```
/// let squares: Vec<u64> = geoparquet_io::workers::prefetch("squares", (1..=4u64).map(|i| i * i), 2)
///     .collect::<Result<_, _>>()?;
/// assert_eq!(squares, vec![1, 4, 9, 16]);
/// # Ok::<(), geoparquet_io::workers::WorkerPanic>(())
/// ```
pub fn prefetch<I>(task: &'static str, iter: I, depth: usize) -> Prefetch<I::Item>
where
    I: Iterator + Send + 'static,
    I::Item: Send + 'static,
{
    let (tx, rx) = sync_channel(depth.max(1));
    let handle = std::thread::Builder::new()
        .name(task.to_owned())
        .spawn(move || {
            for item in iter {
                if tx.send(item).is_err() {
                    // The consumer stopped early.
                    return;
                }
            }
        });
    match handle {
        Ok(handle) => Prefetch {
            task,
            rx: Some(rx),
            handle: Some(Ok(handle)),
        },
        Err(e) => Prefetch {
            task,
            rx: None,
            handle: Some(Err(e.to_string())),
        },
    }
}

/// The consumer side of [`prefetch`].
#[derive(Debug)]
pub struct Prefetch<T> {
    task: &'static str,
    rx: Option<Receiver<T>>,
    handle: Option<Result<JoinHandle<()>, String>>,
}

impl<T> Iterator for Prefetch<T> {
    type Item = Result<T, WorkerPanic>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(rx) = &self.rx
            && let Ok(item) = rx.recv()
        {
            return Some(Ok(item));
        }
        self.rx = None;
        // The producer finished, panicked, or never started.
        match self.handle.take()? {
            Ok(h) => match h.join() {
                Ok(()) => None,
                Err(payload) => Some(Err(WorkerPanic::from_payload(self.task, &*payload))),
            },
            Err(e) => Some(Err(WorkerPanic {
                task: self.task,
                message: format!("the thread could not be started: {e}"),
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_producer_panic_reaches_the_consumer_as_an_error() {
        let producer = (0..5u32).inspect(|i| assert!(*i < 3, "producer bug"));
        let items: Vec<_> = prefetch("producer", producer, 1).collect();
        assert_eq!(items.len(), 4, "{items:?}");
        assert!(items[..3].iter().all(Result::is_ok));
        let err = items[3].as_ref().unwrap_err();
        assert_eq!(err.task, "producer");
        assert!(err.message.contains("producer bug"), "{err}");
    }

    #[test]
    fn map_ordered_keeps_order_with_uneven_work() {
        let mut out = Vec::new();
        map_ordered(
            "uneven",
            4,
            6,
            0..200u64,
            |i| {
                // Early items are slow, so later ones finish first.
                if i % 7 == 0 {
                    std::thread::yield_now();
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                i * 3
            },
            |r| {
                out.push(r);
                Ok::<(), WorkerPanic>(())
            },
        )
        .unwrap();
        assert_eq!(out, (0..200u64).map(|i| i * 3).collect::<Vec<_>>());
    }

    #[test]
    fn map_ordered_bounds_items_in_flight() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let taken = AtomicUsize::new(0);
        let mut consumed = 0usize;
        let mut worst = 0usize;
        let inputs = (0..500u32).inspect(|_| {
            taken.fetch_add(1, Ordering::SeqCst);
        });
        map_ordered(
            "bounded",
            3,
            5,
            inputs,
            |i| i,
            |_| {
                consumed += 1;
                worst = worst.max(taken.load(Ordering::SeqCst) - consumed);
                Ok::<(), WorkerPanic>(())
            },
        )
        .unwrap();
        assert_eq!(consumed, 500);
        assert!(worst <= 5, "{worst} items were taken ahead of the consumer");
    }

    #[test]
    fn map_ordered_reports_the_sink_error_and_stops() {
        #[derive(Debug, PartialEq)]
        enum E {
            Sink(u32),
            Panic,
        }
        impl From<WorkerPanic> for E {
            fn from(_: WorkerPanic) -> Self {
                E::Panic
            }
        }
        let mut seen = 0u32;
        let r = map_ordered(
            "stop",
            2,
            4,
            0..1_000_000u32,
            |i| i,
            |i| {
                seen += 1;
                if i == 10 { Err(E::Sink(i)) } else { Ok(()) }
            },
        );
        assert_eq!(r, Err(E::Sink(10)));
        assert_eq!(seen, 11);
    }

    #[test]
    fn map_ordered_turns_a_panic_into_an_error_after_the_earlier_results() {
        for threads in [1, 3] {
            let mut out = Vec::new();
            let r = map_ordered(
                "divide",
                threads,
                4,
                0..10u32,
                |i| {
                    assert!(i != 6, "item six");
                    i
                },
                |i| {
                    out.push(i);
                    Ok::<(), WorkerPanic>(())
                },
            );
            let e = r.unwrap_err();
            assert_eq!(e.task, "divide");
            assert!(e.message.contains("item six"), "{e}");
            assert_eq!(out, vec![0, 1, 2, 3, 4, 5], "threads {threads}");
        }
    }

    #[test]
    fn an_unjoined_panic_is_an_error_of_the_scope() {
        let r = scope(|s| {
            let _ = s.spawn("forgotten", || panic!("unjoined"));
        });
        let e = r.unwrap_err();
        assert_eq!(e.task, "scope");
        assert!(e.message.contains("panicked"), "{e}");
        let r: Result<(), WorkerPanic> = scope(|_| panic!("in the scope body"));
        assert_eq!(r.unwrap_err().message, "in the scope body");
    }
}
