//! The parent's table of live children: each one's PID and when it started.
//!
//! The parent writes it after every fork (an insert) and every exit (a remove), so it lives in
//! memory a child does not share (`sys::UnsharedWords`): kept on the ordinary heap, each of
//! those writes would first copy the page it lands on, because the child just forked still
//! shares it. The table is open addressing with linear probing over pairs of words, PID 0
//! marking a free slot; removal shifts the run that follows back, so no tombstones build up.

use std::time::{Duration, Instant};

use nix::unistd::Pid;

use crate::sys::UnsharedWords;

/// Slots never fill beyond half, so probes stay short.
const LOAD: usize = 2;
/// The fewest slots a table has.
const MIN_SLOTS: usize = 64;

/// Live children and when each started.
pub(crate) struct Children {
    /// Word 0 the count; then, per slot, the PID and the start in nanoseconds from `base`
    /// (as an `i64`: children handed over by a previous image may predate it).
    words: UnsharedWords,
    slots: usize,
    base: Instant,
}

impl Children {
    /// An empty table sized for `expected` children (it grows if more come).
    pub(crate) fn with_capacity(expected: usize) -> nix::Result<Children> {
        let slots = (expected * LOAD).next_power_of_two().max(MIN_SLOTS);
        Children::with_slots(slots, Instant::now())
    }

    fn with_slots(slots: usize, base: Instant) -> nix::Result<Children> {
        let words = UnsharedWords::new(1 + 2 * slots)?;
        Ok(Children { words, slots, base })
    }

    /// How many children are in the table.
    pub(crate) fn len(&self) -> usize {
        self.words.words()[0] as usize
    }

    /// Whether no child is left.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds (or restarts the clock of) `pid`. Sized for `--max-children` (and the children a
    /// previous image handed over), the table only grows if that sizing was wrong; if it can
    /// neither grow nor find a free slot, the child goes untracked (reaped all the same, as an
    /// unknown child) rather than the parent failing.
    pub(crate) fn insert(&mut self, pid: Pid, started: Instant) {
        if (self.len() + 1) * LOAD > self.slots {
            if let Err(e) = self.grow() {
                log::error!("growing the table of children past {}: {e}", self.slots);
                if self.len() + 1 >= self.slots {
                    return; // one slot always stays free, or lookups would never end
                }
            }
        }
        let offset = self.offset(started);
        let slot = self.find(pid);
        let words = self.words.words_mut();
        if words[1 + 2 * slot] == 0 {
            words[0] += 1;
        }
        words[1 + 2 * slot] = pid.as_raw() as u64;
        words[2 + 2 * slot] = offset as u64;
    }

    /// Removes `pid`; says whether it was there.
    pub(crate) fn remove(&mut self, pid: Pid) -> bool {
        let mask = self.slots - 1;
        let mut hole = self.find(pid);
        let words = self.words.words_mut();
        if words[1 + 2 * hole] == 0 {
            return false;
        }
        words[0] -= 1;
        // Backward shift: move each later entry of the run into the hole unless its home slot
        // lies cyclically after the hole (then it is already as close to home as it can be).
        let mut next = (hole + 1) & mask;
        loop {
            let pid = words[1 + 2 * next];
            if pid == 0 {
                break;
            }
            let home = home(pid as i32, mask);
            if next.wrapping_sub(home) & mask >= next.wrapping_sub(hole) & mask {
                words[1 + 2 * hole] = pid;
                words[2 + 2 * hole] = words[2 + 2 * next];
                hole = next;
            }
            next = (next + 1) & mask;
        }
        words[1 + 2 * hole] = 0;
        words[2 + 2 * hole] = 0;
        true
    }

    /// Every child, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Pid, Instant)> + '_ {
        self.words.words()[1..]
            .chunks_exact(2)
            .filter(|pair| pair[0] != 0)
            .map(|pair| (Pid::from_raw(pair[0] as i32), self.instant(pair[1] as i64)))
    }

    /// The PIDs of every child.
    pub(crate) fn pids(&self) -> impl Iterator<Item = Pid> + '_ {
        self.iter().map(|(pid, _)| pid)
    }

    /// The slot holding `pid`, or the free slot where it would go.
    fn find(&self, pid: Pid) -> usize {
        let mask = self.slots - 1;
        let words = self.words.words();
        let mut slot = home(pid.as_raw(), mask);
        loop {
            let there = words[1 + 2 * slot];
            if there == 0 || there == pid.as_raw() as u64 {
                return slot;
            }
            slot = (slot + 1) & mask;
        }
    }

    fn grow(&mut self) -> nix::Result<()> {
        let mut bigger = Children::with_slots(self.slots * 2, self.base)?;
        for (pid, started) in self.iter() {
            bigger.insert(pid, started);
        }
        *self = bigger;
        Ok(())
    }

    fn offset(&self, at: Instant) -> i64 {
        match at.checked_duration_since(self.base) {
            Some(after) => after.as_nanos().min(i64::MAX as u128) as i64,
            None => {
                -(self
                    .base
                    .duration_since(at)
                    .as_nanos()
                    .min(i64::MAX as u128) as i64)
            }
        }
    }

    fn instant(&self, offset: i64) -> Instant {
        let by = Duration::from_nanos(offset.unsigned_abs());
        match offset >= 0 {
            true => self.base + by,
            false => self.base.checked_sub(by).unwrap_or(self.base),
        }
    }
}

/// Where `pid`'s probe starts: a multiplicative hash, since PIDs come in runs.
fn home(pid: i32, mask: usize) -> usize {
    ((pid as u32).wrapping_mul(0x9E37_79B9) >> 7) as usize & mask
}

impl std::fmt::Debug for Children {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Inserts and removes in a pattern with runs and wrap-arounds, checked against a HashMap.
    #[test]
    fn matches_a_hash_map_through_inserts_removes_and_growth() {
        let mut table = Children::with_capacity(4).unwrap();
        let mut model = HashMap::new();
        let now = Instant::now();
        let mut state = 12345u64;
        for step in 0..20_000u64 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let pid = Pid::from_raw(1 + (state >> 33) as i32 % 300);
            if state % 3 == 0 {
                assert_eq!(
                    table.remove(pid),
                    model.remove(&pid).is_some(),
                    "step {step}"
                );
            } else {
                let at = now + Duration::from_millis(step);
                table.insert(pid, at);
                model.insert(pid, at);
            }
            assert_eq!(table.len(), model.len(), "step {step}");
        }
        let got: HashMap<Pid, Instant> = table.iter().collect();
        assert_eq!(got, model);
    }

    #[test]
    fn keeps_starts_from_before_the_table() {
        let long_ago = Instant::now(); // before the table's own clock starts
        let mut table = Children::with_capacity(1).unwrap();
        table.insert(Pid::from_raw(7), long_ago);
        assert_eq!(table.iter().next(), Some((Pid::from_raw(7), long_ago)));
        assert!(table.remove(Pid::from_raw(7)));
        assert!(!table.remove(Pid::from_raw(7)));
        assert!(table.is_empty());
    }
}
