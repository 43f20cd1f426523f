//! A scoped, order-keeping parallel map: enough to use every core for the per-post work (and the
//! snapshot's compression) without a thread-pool dependency.
//!
//! The calling thread works too, and a helper thread that cannot be created (a task limit such
//! as systemd's `TasksMax`) is simply not there: the work still gets done, on fewer threads,
//! instead of a panic aborting the render.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The most threads used, whatever the core count.
const MAX_THREADS: usize = 8;

/// Applies `f` to every item on up to `available_parallelism` threads; results keep the order of
/// `items`. Threads take the next item as they become free, so uneven items balance out.
pub(crate) fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    by_index(items.len(), |i| f(&items[i]))
}

/// Like [`map`], but hands each item to `f` by value.
pub(crate) fn map_owned<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let slots: Vec<Mutex<Option<T>>> = items.into_iter().map(|t| Mutex::new(Some(t))).collect();
    by_index(slots.len(), |i| {
        let item = slots[i].lock().unwrap_or_else(|e| e.into_inner()).take();
        // Each index is handed out exactly once, so the slot is always full here.
        f(item.expect("each item is taken once"))
    })
}

/// Runs `f(0..n)` on the calling thread and up to `MAX_THREADS - 1` helpers, in any order, and
/// returns the results in index order.
fn by_index<R: Send>(n: usize, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map(|t| t.get())
        .unwrap_or(1)
        .min(MAX_THREADS)
        .min(n);
    if threads <= 1 {
        return (0..n).map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut out = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                break out;
            }
            out.push((i, f(i)));
        }
    };
    let done: Vec<Vec<(usize, R)>> = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads)
            .filter_map(|_| std::thread::Builder::new().spawn_scoped(scope, work).ok())
            .collect();
        let mut done = vec![work()];
        for helper in helpers {
            done.push(
                helper
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        done
    });
    let mut slots: Vec<Option<R>> = std::iter::repeat_with(|| None).take(n).collect();
    for (i, r) in done.into_iter().flatten() {
        slots[i] = Some(r);
    }
    // Every index below n was taken by exactly one thread.
    slots.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_visits_each_item_once() {
        let items: Vec<usize> = (0..1000).collect();
        assert_eq!(
            map(&items, |&i| i * 2),
            items.iter().map(|i| i * 2).collect::<Vec<_>>()
        );
        assert_eq!(
            map_owned(items.clone(), |i| i + 1),
            (1..1001).collect::<Vec<_>>()
        );
        assert!(map(&[] as &[u8], |_| 0).is_empty());
    }
}
