//! The memory of cancelled flags: one 32-bit integer per live token, in
//! pages that live as long as the process.
//!
//! A reader that cannot call into Rust cheaply (JavaScript's `Int32Array`)
//! reads a token's flag straight from this memory. Because a page is never
//! freed, a reader's view of it needs no finalizer: a JavaScript thread maps
//! each page once, and a token's view is a window on that mapping. A token
//! that is dropped gives its slot back at once, without waiting for anything
//! on any thread (a loop that never yields gives no event-loop turn for a
//! finalizer to run).
//!
//! # Invariants
//! - A slot belongs to one [`FlagSlot`] at a time; it is 0 when handed out
//!   and is set back to 0 before it is handed out again.
//! - Pages are only added, never moved or freed: an address from
//!   [`page`] stays valid for the life of the process.
//! - The memory is bounded by the most tokens alive at once (4 bytes each, in
//!   pages of [`PAGE_SLOTS`]).
//!
//! # Lock order
//! The table lock is `FlagTable`, the last rank of the crate's order
//! ([`crate`]): a token may be dropped under any other lock; it is held to
//! hand a slot out or take it back, with no lock inside it and no user code
//! run.

use crate::sync::{Rank, RankedMutex};
use std::sync::atomic::{AtomicI32, Ordering};

/// How many flags a page holds.
pub const PAGE_SLOTS: usize = 1024;

type Page = [AtomicI32; PAGE_SLOTS];

struct Table {
    pages: Vec<&'static Page>,
    free: Vec<u32>,
}

static TABLE: RankedMutex<Table> = RankedMutex::new(
    Rank::FlagTable,
    Table {
        pages: Vec::new(),
        free: Vec::new(),
    },
);

/// A token's flag: a slot in the table, given back when this is dropped.
pub struct FlagSlot {
    index: u32,
    flag: &'static AtomicI32,
}

impl FlagSlot {
    /// A slot holding 0.
    pub fn new() -> Self {
        let mut table = TABLE.lock();
        let index = match table.free.pop() {
            Some(index) => index,
            None => {
                let page: &'static Page =
                    Box::leak(Box::new(std::array::from_fn(|_| AtomicI32::new(0))));
                let first = (table.pages.len() * PAGE_SLOTS) as u32;
                table.pages.push(page);
                // Handed out lowest first.
                table
                    .free
                    .extend((first + 1..first + PAGE_SLOTS as u32).rev());
                first
            }
        };
        let flag = &table.pages[index as usize / PAGE_SLOTS][index as usize % PAGE_SLOTS];
        Self { index, flag }
    }

    /// The flag.
    pub fn flag(&self) -> &AtomicI32 {
        self.flag
    }

    /// The page that holds the flag, and the flag's place in it.
    pub fn place(&self) -> (usize, usize) {
        (
            self.index as usize / PAGE_SLOTS,
            self.index as usize % PAGE_SLOTS,
        )
    }
}

impl Default for FlagSlot {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for FlagSlot {
    fn drop(&mut self) {
        self.flag.store(0, Ordering::Release);
        TABLE.lock().free.push(self.index);
    }
}

/// The address of page `index`'s [`PAGE_SLOTS`] flags, valid for the life
/// of the process; `None` for a page that does not exist yet.
pub fn page(index: usize) -> Option<*const AtomicI32> {
    TABLE.lock().pages.get(index).map(|page| page.as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_starts_at_zero_and_is_zeroed_when_given_back() {
        let slot = FlagSlot::new();
        assert_eq!(slot.flag().load(Ordering::Acquire), 0);
        slot.flag().store(1, Ordering::Release);
        let (page_index, at) = slot.place();
        let base = page(page_index).unwrap();
        // SAFETY: `at` < PAGE_SLOTS, and pages live for the process.
        let seen = unsafe { &*base.add(at) };
        assert_eq!(seen.load(Ordering::Acquire), 1);
        drop(slot);
        assert_eq!(seen.load(Ordering::Acquire), 0);
    }

    #[test]
    fn live_slots_are_distinct_and_their_memory_is_bounded_by_the_most_alive() {
        let first: Vec<FlagSlot> = (0..3 * PAGE_SLOTS).map(|_| FlagSlot::new()).collect();
        let mut places: Vec<_> = first.iter().map(FlagSlot::place).collect();
        places.sort();
        places.dedup();
        assert_eq!(places.len(), first.len());
        let pages = TABLE.lock().pages.len();
        drop(first);
        // Many lifecycles, fewer alive at once than already exist: no new page.
        for _ in 0..10 * PAGE_SLOTS {
            drop(FlagSlot::new());
        }
        // Other tests may run at once and add pages of their own, but not five.
        assert!(TABLE.lock().pages.len() < pages + 5);
    }

    #[test]
    fn page_is_none_past_the_last() {
        assert!(page(usize::MAX / PAGE_SLOTS).is_none());
    }
}
