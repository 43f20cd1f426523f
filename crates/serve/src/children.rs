//! The parent's table of live children: each one's PID, when it started, and its wait slot.
//!
//! The parent writes it after every fork (an insert) and every exit (a remove), so it lives in
//! memory a child does not share (`sys::UnsharedWords`): kept on the ordinary heap, each of
//! those writes would first copy the page it lands on, because the child just forked still
//! shares it. The table is open addressing with linear probing over triples of words, PID 0
//! marking a free slot; removal shifts the run that follows back, so no tombstones build up.
//!
//! A child forked by this image also has a wait slot in the shared page, which it sets while
//! it waits for its client (`status::Counters::begin_wait`): the parent learns from it, without
//! a system call, which children may give way when others queue. Which slots are taken is a
//! bitmap beside the table, also unshared.

use std::time::{Duration, Instant};

use nix::unistd::Pid;

use super::status::{Counters, WaitSlot, WAIT_SLOTS};
use crate::sys::UnsharedWords;

/// Slots never fill beyond half, so probes stay short.
const LOAD: usize = 2;
/// The fewest slots a table has.
const MIN_SLOTS: usize = 64;

/// Words per slot: the PID, the start, the wait slot plus one (0: none).
const WIDTH: usize = 3;

/// Live children, when each started, and each one's wait slot.
pub(crate) struct Children {
    /// Word 0 the count; then, per slot, the PID, the start in nanoseconds from `base` (as an
    /// `i64`: children handed over by a previous image may predate it) and the wait slot.
    words: UnsharedWords,
    slots: usize,
    base: Instant,
    /// One bit per wait slot: taken by a live child.
    taken: UnsharedWords,
    /// When the fresh-wait bits may next be cleared, and how many times they were (see
    /// [`Children::stalled_since`]).
    next_sweep: Instant,
    sweeps: usize,
}

impl Children {
    /// An empty table sized for `expected` children (it grows if more come).
    pub(crate) fn with_capacity(expected: usize) -> nix::Result<Children> {
        let slots = (expected * LOAD).next_power_of_two().max(MIN_SLOTS);
        Children::with_slots(slots, Instant::now())
    }

    fn with_slots(slots: usize, base: Instant) -> nix::Result<Children> {
        let words = UnsharedWords::new(1 + WIDTH * slots)?;
        let taken = UnsharedWords::new(2 * WAIT_SLOTS / 64)?;
        Ok(Children {
            words,
            slots,
            base,
            taken,
            next_sweep: base,
            sweeps: 0,
        })
    }

    /// How many children are in the table.
    pub(crate) fn len(&self) -> usize {
        self.words.words()[0] as usize
    }

    /// Whether no child is left.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The lowest wait slot of `generation`'s half that no live child holds, for the next
    /// child; `None` if all are taken (that child then has none).
    pub(crate) fn free_wait_slot(&self, generation: u64) -> Option<WaitSlot> {
        let first = WaitSlot::new(generation, 0).index() / 64;
        let half = &self.taken.words()[first..first + WAIT_SLOTS / 64];
        let (at, word) = half.iter().enumerate().find(|(_, w)| **w != u64::MAX)?;
        Some(WaitSlot::at(
            (first + at) * 64 + word.trailing_ones() as usize,
        ))
    }

    /// Adds `pid`, holding wait slot `wait` (from [`Children::free_wait_slot`]).
    pub(crate) fn insert_with_wait_slot(
        &mut self,
        pid: Pid,
        started: Instant,
        wait: Option<WaitSlot>,
    ) {
        if self.insert(pid, started) {
            if let Some(bit) = wait.map(WaitSlot::index) {
                let slot = self.find(pid);
                self.taken.words_mut()[bit / 64] |= 1 << (bit % 64);
                self.words.words_mut()[3 + WIDTH * slot] = bit as u64 + 1;
            }
        }
    }

    /// Adds (or restarts the clock of) `pid`, without a wait slot. Sized for
    /// `--max-children` (and the children a previous image handed over), the table only grows
    /// if that sizing was wrong; if it can neither grow nor find a free slot, the child goes
    /// untracked (reaped all the same, as an unknown child) rather than the parent failing:
    /// false then.
    pub(crate) fn insert(&mut self, pid: Pid, started: Instant) -> bool {
        if (self.len() + 1) * LOAD > self.slots {
            if let Err(e) = self.grow() {
                log::error!("growing the table of children past {}: {e}", self.slots);
                if self.len() + 1 >= self.slots {
                    return false; // one slot always stays free, or lookups would never end
                }
            }
        }
        let offset = self.offset(started);
        let slot = self.find(pid);
        let words = self.words.words_mut();
        let at = 1 + WIDTH * slot;
        if words[at] == 0 {
            words[0] += 1;
        }
        words[at] = pid.as_raw() as u64;
        words[at + 1] = offset as u64;
        true
    }

    /// Removes `pid`; says whether it was there.
    pub(crate) fn remove(&mut self, pid: Pid) -> bool {
        let mask = self.slots - 1;
        let mut hole = self.find(pid);
        let words = self.words.words_mut();
        if words[1 + WIDTH * hole] == 0 {
            return false;
        }
        if let Some(bit) = (words[3 + WIDTH * hole] as usize).checked_sub(1) {
            self.taken.words_mut()[bit / 64] &= !(1 << (bit % 64));
        }
        words[0] -= 1;
        // Backward shift: move each later entry of the run into the hole unless its home slot
        // lies cyclically after the hole (then it is already as close to home as it can be).
        let mut next = (hole + 1) & mask;
        loop {
            let pid = words[1 + WIDTH * next];
            if pid == 0 {
                break;
            }
            let home = home(pid as i32, mask);
            if next.wrapping_sub(home) & mask >= next.wrapping_sub(hole) & mask {
                words.copy_within(1 + WIDTH * next..1 + WIDTH * (next + 1), 1 + WIDTH * hole);
                hole = next;
            }
            next = (next + 1) & mask;
        }
        words[1 + WIDTH * hole..1 + WIDTH * (hole + 1)].fill(0);
        true
    }

    /// Every child, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Pid, Instant)> + '_ {
        self.entries().map(|entry| {
            (
                Pid::from_raw(entry[0] as i32),
                self.instant(entry[1] as i64),
            )
        })
    }

    /// Clears one of the two fresh-wait bits of every wait slot, in turn, at most every
    /// `period`: see [`Children::stalled_since`]. Says whether it did.
    pub(crate) fn sweep_fresh_waits(
        &mut self,
        counters: &Counters,
        now: Instant,
        period: Duration,
    ) -> bool {
        if now < self.next_sweep {
            return false;
        }
        self.next_sweep = now + period;
        self.sweeps += 1;
        counters.forget_fresh_waits(self.sweeps % 2);
        true
    }

    /// The fresh-wait bit the sweep before the last one cleared, at least a period ago: a child
    /// waiting in a head with that bit still clear got no byte for that long. `None` before two
    /// sweeps.
    pub(crate) fn stalled_since(&self) -> Option<usize> {
        (self.sweeps >= 2).then_some((self.sweeps - 1) % 2)
    }

    /// Every child that holds a wait slot, and the slot.
    pub(crate) fn with_wait_slots(&self) -> impl Iterator<Item = (Pid, WaitSlot)> + '_ {
        self.entries().filter_map(|entry| {
            let bit = (entry[2] as usize).checked_sub(1)?;
            Some((Pid::from_raw(entry[0] as i32), WaitSlot::at(bit)))
        })
    }

    /// The wait slot `pid` holds, if any (none: a child a previous image handed over, or one
    /// forked when every slot was taken).
    pub(crate) fn wait_slot(&self, pid: Pid) -> Option<WaitSlot> {
        let slot = self.find(pid);
        let index = self.words.words()[3 + WIDTH * slot] as usize;
        index.checked_sub(1).map(WaitSlot::at)
    }

    /// The live entries (PID, start, wait slot plus one).
    fn entries(&self) -> impl Iterator<Item = &[u64]> + '_ {
        self.words.words()[1..]
            .chunks_exact(WIDTH)
            .filter(|entry| entry[0] != 0)
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
            let there = words[1 + WIDTH * slot];
            if there == 0 || there == pid.as_raw() as u64 {
                return slot;
            }
            slot = (slot + 1) & mask;
        }
    }

    fn grow(&mut self) -> nix::Result<()> {
        let mut bigger = Children::with_slots(self.slots * 2, self.base)?;
        for entry in self.entries() {
            let pid = Pid::from_raw(entry[0] as i32);
            let bit = (entry[2] as usize).checked_sub(1).map(WaitSlot::at);
            bigger.insert_with_wait_slot(pid, self.instant(entry[1] as i64), bit);
        }
        (bigger.next_sweep, bigger.sweeps) = (self.next_sweep, self.sweeps);
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

    /// A wait slot is the lowest free one of the generation's half, stays with its child
    /// through growth, and is free again once the child is removed.
    #[test]
    fn wait_slots_are_lent_and_given_back() {
        let mut table = Children::with_capacity(1).unwrap();
        let now = Instant::now();
        let mut lent = Vec::new();
        for raw in 1..=200 {
            let bit = table.free_wait_slot(1);
            assert_eq!(bit, Some(WaitSlot::new(1, raw as usize - 1)), "child {raw}");
            table.insert_with_wait_slot(Pid::from_raw(raw), now, bit);
            lent.push((Pid::from_raw(raw), bit.unwrap()));
        }
        let mut got: Vec<_> = table.with_wait_slots().collect();
        got.sort_by_key(|(pid, _)| *pid);
        assert_eq!(got, lent, "slots lost or moved as the table grew");
        assert!(table.remove(Pid::from_raw(5)));
        assert_eq!(table.free_wait_slot(1), Some(WaitSlot::new(1, 4)));
        assert_eq!(
            table.free_wait_slot(0),
            Some(WaitSlot::new(0, 0)),
            "the other half is free"
        );
        table.insert(Pid::from_raw(999), now);
        assert_eq!(table.wait_slot(Pid::from_raw(999)), None);
        assert_eq!(table.wait_slot(Pid::from_raw(6)), Some(WaitSlot::new(1, 5)));
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
