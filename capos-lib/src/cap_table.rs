//! A per-process capability table.
//!
//! A [`CapId`] names a slot in one process's table, and only in that table:
//! the same number in another process names nothing of this one, so a
//! process cannot forge access to another's capabilities. Each slot carries
//! a generation that changes whenever the slot is emptied, so an id kept
//! after its capability was released or moved away fails as stale instead of
//! silently resolving to whatever later reuses the slot.

use alloc::vec::Vec;
use core::fmt;

/// Bits of a [`CapId`] that index the slot; the high bits hold the generation.
const INDEX_BITS: u32 = 16;
const INDEX_MASK: u32 = (1 << INDEX_BITS) - 1;
/// Most slots a table can ever have (the index must fit in `INDEX_BITS`).
pub const MAX_TABLE_SLOTS: usize = 1 << INDEX_BITS;

/// A process-local capability name: `generation << 16 | slot`.
///
/// Generations start at 1, so the all-zero id is never valid: a zeroed SQE
/// can't name a capability by accident.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CapId(u32);

impl CapId {
    pub const fn from_raw(raw: u32) -> Self {
        Self(raw)
    }
    pub const fn raw(self) -> u32 {
        self.0
    }
    pub const fn slot(self) -> usize {
        (self.0 & INDEX_MASK) as usize
    }
    pub const fn generation(self) -> u16 {
        (self.0 >> INDEX_BITS) as u16
    }
    const fn new(slot: usize, generation: u16) -> Self {
        Self(((generation as u32) << INDEX_BITS) | slot as u32)
    }
}

impl fmt::Debug for CapId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CapId({:#x})", self.0)
    }
}

impl fmt::Display for CapId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

/// Why an id did not resolve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapLookupError {
    /// No capability was ever granted under this id in this table.
    Unknown,
    /// The slot's capability was released or moved away; the id is stale.
    Stale,
}

impl fmt::Display for CapLookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unknown => "no such capability in this process's CapTable",
            Self::Stale => "stale capability id (released or moved away)",
        })
    }
}

/// The table already holds as many capabilities as its limit allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapTableFull {
    pub limit: usize,
}

impl fmt::Display for CapTableFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CapTable is full ({} capabilities)", self.limit)
    }
}

struct Slot<T> {
    /// Generation of the id that names (or last named) this slot.
    generation: u16,
    /// Generation of the first id this slot ever had: ids from `first` to
    /// `generation` (wrapping) were issued, so those are stale, not unknown.
    first: u16,
    value: Option<T>,
}

/// One process's capabilities, addressed by [`CapId`].
pub struct CapTable<T> {
    slots: Vec<Slot<T>>,
    /// Empty slots, reused last-freed-first.
    free: Vec<usize>,
    len: usize,
    limit: usize,
    /// Offsets every slot's first generation, so ids differ between tables:
    /// a number seen in another process names nothing here (or, rarely, one
    /// of this process's own capabilities — never the other process's).
    salt: u16,
}

impl<T> CapTable<T> {
    /// A table that holds at most `limit` capabilities (clamped to
    /// [`MAX_TABLE_SLOTS`]).
    pub fn with_limit(limit: usize) -> Self {
        Self::with_limit_and_salt(limit, 0)
    }

    /// A table whose ids are offset by `salt` (the kernel gives each process
    /// a different one).
    pub fn with_limit_and_salt(limit: usize, salt: u16) -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
            limit: limit.min(MAX_TABLE_SLOTS),
            salt,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Stores `value` under a fresh id.
    pub fn insert(&mut self, value: T) -> Result<CapId, CapTableFull> {
        if self.len >= self.limit {
            return Err(CapTableFull { limit: self.limit });
        }
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                let slot = self.slots.len();
                let start = self
                    .salt
                    .wrapping_add((slot as u16).wrapping_mul(0x9e37))
                    .max(1);
                self.slots.push(Slot {
                    // `insert` below advances it to `start`.
                    generation: start.wrapping_sub(1),
                    first: start,
                    value: None,
                });
                slot
            }
        };
        let entry = &mut self.slots[slot];
        // Skip generation 0 so that no valid id is ever zero.
        entry.generation = match entry.generation.wrapping_add(1) {
            0 => 1,
            g => g,
        };
        entry.value = Some(value);
        self.len += 1;
        Ok(CapId::new(slot, entry.generation))
    }

    pub fn get(&self, id: CapId) -> Result<&T, CapLookupError> {
        let entry = self.slots.get(id.slot()).ok_or(CapLookupError::Unknown)?;
        if let Some(value) = &entry.value
            && entry.generation == id.generation()
        {
            return Ok(value);
        }
        let issued = id.generation() != 0
            && id.generation().wrapping_sub(entry.first)
                <= entry.generation.wrapping_sub(entry.first);
        Err(if issued {
            CapLookupError::Stale
        } else {
            CapLookupError::Unknown
        })
    }

    pub fn get_mut(&mut self, id: CapId) -> Result<&mut T, CapLookupError> {
        // Resolve through `get` so both paths report errors identically.
        self.get(id)?;
        Ok(self.slots[id.slot()]
            .value
            .as_mut()
            .expect("slot checked occupied by get"))
    }

    /// Takes the capability out; its id (and every copy of it) becomes stale.
    pub fn remove(&mut self, id: CapId) -> Result<T, CapLookupError> {
        self.get(id)?;
        let value = self.slots[id.slot()]
            .value
            .take()
            .expect("slot checked occupied by get");
        self.free.push(id.slot());
        self.len -= 1;
        Ok(value)
    }

    /// Every live capability with its id, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (CapId, &T)> {
        self.slots.iter().enumerate().filter_map(|(slot, entry)| {
            entry
                .value
                .as_ref()
                .map(|value| (CapId::new(slot, entry.generation), value))
        })
    }

    /// Empties the table (a process exiting releases everything it held).
    pub fn drain(&mut self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len);
        for (slot, entry) in self.slots.iter_mut().enumerate() {
            if let Some(value) = entry.value.take() {
                out.push(value);
                self.free.push(slot);
            }
        }
        self.len = 0;
        out
    }
}

impl<T> fmt::Debug for CapTable<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CapTable")
            .field("len", &self.len)
            .field("limit", &self.limit)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_then_lookup_returns_the_value() {
        let mut table = CapTable::with_limit(8);
        let a = table.insert("console").unwrap();
        let b = table.insert("spawner").unwrap();
        assert_ne!(a, b);
        assert_eq!(table.get(a), Ok(&"console"));
        assert_eq!(table.get(b), Ok(&"spawner"));
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn zero_is_never_a_valid_id() {
        let mut table = CapTable::with_limit(8);
        table.insert(1).unwrap();
        assert_eq!(table.get(CapId::from_raw(0)), Err(CapLookupError::Unknown));
    }

    #[test]
    fn removed_id_is_stale_and_reused_slot_gets_a_new_id() {
        let mut table = CapTable::with_limit(8);
        let old = table.insert("a").unwrap();
        assert_eq!(table.remove(old), Ok("a"));
        assert_eq!(table.get(old), Err(CapLookupError::Stale));
        assert_eq!(table.remove(old), Err(CapLookupError::Stale));
        let new = table.insert("b").unwrap();
        assert_eq!(new.slot(), old.slot(), "slot is reused");
        assert_ne!(new, old, "but under a different generation");
        assert_eq!(table.get(old), Err(CapLookupError::Stale));
        assert_eq!(table.get(new), Ok(&"b"));
    }

    #[test]
    fn guessed_ids_do_not_resolve() {
        let mut table = CapTable::with_limit(8);
        let real = table.insert(()).unwrap();
        // Out-of-range slot, a generation never issued, and generation zero.
        assert_eq!(
            table.get(CapId::from_raw(0x0001_0005)),
            Err(CapLookupError::Unknown)
        );
        let future = CapId::new(real.slot(), real.generation() + 5);
        assert_eq!(table.get(future), Err(CapLookupError::Unknown));
        assert_eq!(
            table.get(CapId::new(real.slot(), 0)),
            Err(CapLookupError::Unknown)
        );
    }

    #[test]
    fn salted_tables_issue_different_ids_for_the_same_slot() {
        let mut a = CapTable::with_limit_and_salt(8, 0x1234);
        let mut b = CapTable::with_limit_and_salt(8, 0x4321);
        let id_a = a.insert("a's console").unwrap();
        let id_b = b.insert("b's endpoint").unwrap();
        assert_eq!(id_a.slot(), id_b.slot());
        assert_ne!(id_a, id_b);
        assert_eq!(
            b.get(id_a),
            Err(CapLookupError::Unknown),
            "a's id means nothing in b"
        );
        let stale = b.remove(id_b).map(|_| id_b).unwrap();
        b.insert("next").unwrap();
        assert_eq!(b.get(stale), Err(CapLookupError::Stale));
    }

    #[test]
    fn limit_is_enforced_and_freed_room_is_reusable() {
        let mut table = CapTable::with_limit(2);
        let a = table.insert(1).unwrap();
        table.insert(2).unwrap();
        assert_eq!(table.insert(3), Err(CapTableFull { limit: 2 }));
        table.remove(a).unwrap();
        assert!(table.insert(3).is_ok());
    }

    #[test]
    fn generation_wraps_without_ever_issuing_zero() {
        let mut table = CapTable::with_limit(1);
        let mut seen_zero = false;
        for _ in 0..70_000 {
            let id = table.insert(()).unwrap();
            seen_zero |= id.generation() == 0;
            table.remove(id).unwrap();
        }
        assert!(!seen_zero);
    }

    #[test]
    fn drain_releases_everything_and_stales_ids() {
        let mut table = CapTable::with_limit(8);
        let ids: Vec<_> = (0..5).map(|i| table.insert(i).unwrap()).collect();
        table.remove(ids[2]).unwrap();
        let mut drained = table.drain();
        drained.sort();
        assert_eq!(drained, [0, 1, 3, 4]);
        assert!(table.is_empty());
        for id in ids {
            assert!(table.get(id).is_err());
        }
    }

    #[test]
    fn iter_lists_live_entries_with_their_ids() {
        let mut table = CapTable::with_limit(8);
        let a = table.insert('a').unwrap();
        let b = table.insert('b').unwrap();
        table.remove(a).unwrap();
        let live: Vec<_> = table.iter().collect();
        assert_eq!(live, [(b, &'b')]);
    }
}
