//! VirtualMemory: pages of the process's own linear memory, mapped and
//! unmapped. WebAssembly memory only grows (`memory.grow`); it never gives
//! pages back to the browser. So `unmap` is logical: the pages are zeroed and
//! kept on a free list, and `map` takes from that list (first fit, adjacent
//! free runs merged) before it grows the memory. `protect` checks its range
//! and changes nothing: wasm has no page protection inside an instance (one
//! process cannot reach another's memory at all, which is the protection
//! that matters here). See docs/host-capabilities.md.
//!
//! This is a process-local object, not a kernel capability: a Worker's
//! memory can be grown only from inside it, and growing it needs no
//! authority beyond the memory limit the process was spawned with (past it,
//! `memory.grow` fails and `map` returns `OutOfMemory`). capos-rt's heap
//! (`heap.rs`) takes its pages from here.

/// A wasm page.
pub const PAGE: usize = 65536;

/// Protection flags, accepted and not enforced (see the module comment).
pub const PROT_READ: u32 = 1;
pub const PROT_WRITE: u32 = 2;
pub const PROT_EXEC: u32 = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmError {
    /// The memory could not grow (the process's memory limit).
    OutOfMemory,
    /// The range is not mapped, not page-aligned, or empty.
    BadRange,
    /// Flags other than PROT_READ | PROT_WRITE | PROT_EXEC.
    BadFlags,
    /// The bookkeeping is full: more than `MAX_RUNS` separate runs.
    TooFragmented,
}

/// Most separate runs (mapped, and free) kept track of. The bookkeeping
/// lives in fixed arrays, never on the heap, because the heap is built on
/// this: allocating here would recurse into the allocator.
pub const MAX_RUNS: usize = 4096;

/// Runs of pages (address, pages), sorted by address, in a fixed array.
struct Runs {
    runs: [(usize, usize); MAX_RUNS],
    len: usize,
}

impl Runs {
    const fn new() -> Self {
        Self {
            runs: [(0, 0); MAX_RUNS],
            len: 0,
        }
    }

    fn as_slice(&self) -> &[(usize, usize)] {
        &self.runs[..self.len]
    }

    /// The index of the first run at or after `addr`.
    fn after(&self, addr: usize) -> usize {
        self.as_slice().partition_point(|&(a, _)| a < addr)
    }

    fn insert(&mut self, at: usize, run: (usize, usize)) -> Result<(), VmError> {
        if self.len == MAX_RUNS {
            return Err(VmError::TooFragmented);
        }
        self.runs.copy_within(at..self.len, at + 1);
        self.runs[at] = run;
        self.len += 1;
        Ok(())
    }

    fn remove(&mut self, at: usize) -> (usize, usize) {
        let run = self.runs[at];
        self.runs.copy_within(at + 1..self.len, at);
        self.len -= 1;
        run
    }

    fn pages(&self) -> usize {
        self.as_slice().iter().map(|r| r.1).sum()
    }

    /// Adds a run, merged with the runs it touches.
    fn add_merged(&mut self, addr: usize, count: usize) -> Result<(), VmError> {
        let mut at = self.after(addr);
        let mut run = (addr, count);
        if at > 0 {
            let (a, n) = self.runs[at - 1];
            if a + n * PAGE == addr {
                run = (a, n + count);
                self.remove(at - 1);
                at -= 1;
            }
        }
        if at < self.len {
            let (a, n) = self.runs[at];
            if run.0 + run.1 * PAGE == a {
                run.1 += n;
                self.remove(at);
            }
        }
        self.insert(at, run)
    }
}

/// Where pages come from: the instance's memory, or a test arena.
pub trait Pages {
    /// Grows by `pages`; returns the address of the first new page.
    fn grow(&mut self, pages: usize) -> Option<usize>;
    /// Zeroes `len` bytes at `addr` (mapped pages of this memory).
    fn zero(&mut self, addr: usize, len: usize);
    /// Whole, zeroed pages the memory already has that nothing uses yet
    /// (address, pages): asked once, before the first `map`.
    fn unused(&mut self) -> Option<(usize, usize)> {
        None
    }
}

/// The instance's own linear memory.
#[cfg(target_arch = "wasm32")]
#[derive(Default)]
pub struct LinearMemory;

#[cfg(target_arch = "wasm32")]
impl Pages for LinearMemory {
    fn grow(&mut self, pages: usize) -> Option<usize> {
        let previous = core::arch::wasm32::memory_grow(0, pages);
        (previous != usize::MAX).then(|| previous * PAGE)
    }

    fn zero(&mut self, addr: usize, len: usize) {
        // SAFETY: `addr..addr + len` is a run of pages this allocator mapped
        // and the caller has just unmapped: inside the memory, used by no one.
        unsafe { core::ptr::write_bytes(addr as *mut u8, 0, len) }
    }

    /// The pages between the end of static data and the stack (`__heap_base`,
    /// which the linker sets) and the memory's current end: zero in a fresh
    /// instance, and used by nothing before the heap.
    fn unused(&mut self) -> Option<(usize, usize)> {
        unsafe extern "C" {
            static __heap_base: u8;
        }
        // Only the symbol's address is taken; it is never read.
        let base = core::ptr::addr_of!(__heap_base) as usize;
        let start = base.next_multiple_of(PAGE);
        let end = core::arch::wasm32::memory_size(0) * PAGE;
        (end > start).then(|| (start, (end - start) / PAGE))
    }
}

/// Mapped and free pages of one memory.
pub struct VirtualMemory<P: Pages> {
    pages: P,
    /// Free runs, never adjacent.
    free: Runs,
    /// Mapped runs, adjacent ones merged (a part of one may be unmapped).
    mapped: Runs,
    grown: usize,
    /// Whether the memory's unused pages were put on the free list yet.
    seeded: bool,
}

impl<P: Pages> VirtualMemory<P> {
    pub const fn new(pages: P) -> Self {
        Self {
            pages,
            free: Runs::new(),
            mapped: Runs::new(),
            grown: 0,
            seeded: false,
        }
    }

    /// `count` zeroed pages, contiguous; returns their address.
    pub fn map(&mut self, count: usize) -> Result<usize, VmError> {
        if count == 0 {
            return Err(VmError::BadRange);
        }
        if !self.seeded {
            self.seeded = true;
            if let Some((addr, pages)) = self.pages.unused() {
                self.free.add_merged(addr, pages)?;
            }
        }
        // Room to record the mapping whatever happens below.
        if self.mapped.len == MAX_RUNS {
            return Err(VmError::TooFragmented);
        }
        let addr = match self.free.as_slice().iter().position(|&(_, n)| n >= count) {
            Some(i) => {
                let (addr, n) = self.free.runs[i];
                if n == count {
                    self.free.remove(i);
                } else {
                    self.free.runs[i] = (addr + count * PAGE, n - count);
                }
                addr
            }
            None => {
                let addr = self.pages.grow(count).ok_or(VmError::OutOfMemory)?;
                self.grown += count;
                addr
            }
        };
        self.mapped.add_merged(addr, count)?;
        Ok(addr)
    }

    /// Unmaps a run `map` returned, or a page-aligned part of one: the pages
    /// are zeroed and go to the free list.
    pub fn unmap(&mut self, addr: usize, count: usize) -> Result<(), VmError> {
        let i = self.covering(addr, count)?;
        let (start, n) = self.mapped.runs[i];
        let end = addr + count * PAGE;
        let tail = start + n * PAGE;
        // Splitting a run in two needs a slot, and freeing may too: check
        // first, so a refusal changes nothing.
        let splits = usize::from(start < addr && end < tail);
        if self.mapped.len + splits > MAX_RUNS || self.free.len == MAX_RUNS {
            return Err(VmError::TooFragmented);
        }
        self.mapped.remove(i);
        if start < addr {
            self.mapped.insert(i, (start, (addr - start) / PAGE))?;
        }
        if end < tail {
            let at = self.mapped.after(end);
            self.mapped.insert(at, (end, (tail - end) / PAGE))?;
        }
        self.pages.zero(addr, count * PAGE);
        self.free.add_merged(addr, count)
    }

    /// Checks that the range is mapped and the flags are known; changes
    /// nothing (wasm cannot protect pages inside an instance).
    pub fn protect(&mut self, addr: usize, count: usize, flags: u32) -> Result<(), VmError> {
        if flags & !(PROT_READ | PROT_WRITE | PROT_EXEC) != 0 {
            return Err(VmError::BadFlags);
        }
        self.covering(addr, count).map(drop)
    }

    /// (pages mapped, pages free, pages the memory grew by).
    pub fn stats(&self) -> (usize, usize, usize) {
        (self.mapped.pages(), self.free.pages(), self.grown)
    }

    /// The mapped run that holds all of `addr .. addr + count` pages.
    fn covering(&self, addr: usize, count: usize) -> Result<usize, VmError> {
        if count == 0 || !addr.is_multiple_of(PAGE) {
            return Err(VmError::BadRange);
        }
        let end = addr.checked_add(count * PAGE).ok_or(VmError::BadRange)?;
        let i = self
            .mapped
            .as_slice()
            .partition_point(|&(a, _)| a <= addr)
            .checked_sub(1)
            .ok_or(VmError::BadRange)?;
        let (start, n) = self.mapped.runs[i];
        if end <= start + n * PAGE {
            Ok(i)
        } else {
            Err(VmError::BadRange)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A memory that starts at 1 MiB and grows up to `limit` pages, and
    /// remembers what was zeroed.
    struct Fake {
        size: usize,
        limit: usize,
        zeroed: Vec<(usize, usize)>,
    }

    impl Pages for Fake {
        fn grow(&mut self, pages: usize) -> Option<usize> {
            if self.size + pages > self.limit {
                return None;
            }
            self.size += pages;
            Some((16 + self.size - pages) * PAGE)
        }
        fn zero(&mut self, addr: usize, len: usize) {
            self.zeroed.push((addr, len));
        }
    }

    fn vm(limit: usize) -> Box<VirtualMemory<Fake>> {
        Box::new(VirtualMemory::new(Fake {
            size: 0,
            limit,
            zeroed: Vec::new(),
        }))
    }

    #[test]
    fn unmapped_pages_are_zeroed_reused_and_merged() {
        let mut vm = vm(100);
        let a = vm.map(2).unwrap();
        let b = vm.map(3).unwrap();
        let c = vm.map(1).unwrap();
        assert_eq!(vm.stats(), (6, 0, 6));
        assert_eq!(vm.mapped.as_slice(), [(a, 6)], "adjacent mappings merged");
        vm.unmap(a, 2).unwrap();
        vm.unmap(b, 3).unwrap();
        assert_eq!(vm.pages.zeroed, vec![(a, 2 * PAGE), (b, 3 * PAGE)]);
        assert_eq!(vm.free.as_slice(), [(a, 5)], "neighbours merged");
        // Reused before growing: first fit.
        assert_eq!(vm.map(4).unwrap(), a);
        assert_eq!(vm.stats(), (5, 1, 6));
        vm.unmap(c, 1).unwrap();
        assert_eq!(vm.free.as_slice(), [(a + 4 * PAGE, 2)]);
    }

    #[test]
    fn part_of_a_run_can_be_unmapped_and_bad_ranges_are_refused() {
        let mut vm = vm(100);
        let a = vm.map(4).unwrap();
        vm.unmap(a + PAGE, 2).unwrap();
        assert_eq!(vm.mapped.as_slice(), [(a, 1), (a + 3 * PAGE, 1)]);
        assert_eq!(
            vm.unmap(a + PAGE, 1),
            Err(VmError::BadRange),
            "already unmapped"
        );
        assert_eq!(
            vm.unmap(a + 1, 1),
            Err(VmError::BadRange),
            "not page-aligned"
        );
        assert_eq!(
            vm.unmap(a, 2),
            Err(VmError::BadRange),
            "runs past the mapping"
        );
        assert_eq!(vm.protect(a, 1, PROT_READ | PROT_WRITE), Ok(()));
        assert_eq!(vm.protect(a, 1, 8), Err(VmError::BadFlags));
        assert_eq!(vm.protect(a + PAGE, 1, PROT_READ), Err(VmError::BadRange));
    }

    #[test]
    fn the_memory_limit_is_out_of_memory() {
        let mut vm = vm(3);
        vm.map(2).unwrap();
        assert_eq!(vm.map(2), Err(VmError::OutOfMemory));
        assert_eq!(vm.map(0), Err(VmError::BadRange));
        assert!(vm.map(1).is_ok());
    }
}
