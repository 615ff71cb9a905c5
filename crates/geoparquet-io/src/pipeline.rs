//! Overlapping reading and writing: run an iterator on its own thread.

use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::JoinHandle;

/// Items of an iterator produced on a background thread, at most `depth`
/// ahead of the consumer (so memory stays bounded). Reading and decoding one
/// batch then overlap with encoding and compressing the previous one.
///
/// ```
/// let squares: Vec<u64> = geoparquet_io::pipeline::prefetch((1..=4u64).map(|i| i * i), 2).collect();
/// assert_eq!(squares, vec![1, 4, 9, 16]);
/// ```
pub fn prefetch<I>(iter: I, depth: usize) -> Prefetch<I::Item>
where
    I: Iterator + Send + 'static,
    I::Item: Send + 'static,
{
    let (tx, rx) = sync_channel(depth.max(1));
    let handle = std::thread::spawn(move || {
        for item in iter {
            if tx.send(item).is_err() {
                // The consumer stopped early.
                return;
            }
        }
    });
    Prefetch {
        rx,
        handle: Some(handle),
    }
}

/// The consumer side of [`prefetch`].
#[derive(Debug)]
pub struct Prefetch<T> {
    rx: Receiver<T>,
    handle: Option<JoinHandle<()>>,
}

impl<T> Iterator for Prefetch<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        match self.rx.recv() {
            Ok(item) => Some(item),
            Err(_) => {
                // The producer finished, or panicked: then the panic goes on in the
                // consumer, so that a bug never passes for a shorter output.
                if let Some(h) = self.handle.take()
                    && let Err(panic) = h.join()
                {
                    std::panic::resume_unwind(panic);
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::prefetch;

    #[test]
    fn a_producer_panic_reaches_the_consumer() {
        let producer = (0..5u32).inspect(|i| assert!(*i < 3, "producer bug"));
        let consumed = std::panic::catch_unwind(|| prefetch(producer, 1).collect::<Vec<_>>());
        assert!(consumed.is_err(), "the items ended silently: {consumed:?}");
    }
}
