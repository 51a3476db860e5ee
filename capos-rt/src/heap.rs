//! capOS programs' heap, on VirtualMemory pages (`vm.rs`).
//!
//! Small blocks (up to 32 KiB) come from size classes, powers of two from 16
//! bytes: a class takes whole pages from VirtualMemory, cuts them into
//! blocks and keeps its free blocks on a list threaded through them. Blocks
//! are aligned to their size (pages are page-aligned), so any alignment up
//! to the class size is met. Larger blocks are runs of pages mapped for
//! them and unmapped (zeroed, back on VirtualMemory's free list) when freed.

use crate::vm::{PAGE, Pages, VirtualMemory};
use core::alloc::Layout;
use core::ptr;

/// Size classes: 16 << i bytes, up to 32 KiB.
const CLASSES: usize = 12;
const MIN_BLOCK: usize = 16;
const MAX_SMALL: usize = MIN_BLOCK << (CLASSES - 1);

/// The heap's state: one free list per class, and where pages come from.
pub struct Heap<P: Pages> {
    free: [usize; CLASSES],
    vm: VirtualMemory<P>,
}

/// The class of a block of `size` bytes aligned to `align`, or `None` when
/// it takes its own pages.
fn class_of(layout: Layout) -> Option<usize> {
    let need = layout.size().max(layout.align()).max(MIN_BLOCK);
    if need > MAX_SMALL {
        return None;
    }
    Some((need.next_power_of_two() / MIN_BLOCK).trailing_zeros() as usize)
}

impl<P: Pages> Heap<P> {
    pub const fn new(pages: P) -> Self {
        Self {
            free: [0; CLASSES],
            vm: VirtualMemory::new(pages),
        }
    }

    /// The VirtualMemory under the heap.
    pub fn vm(&mut self) -> &mut VirtualMemory<P> {
        &mut self.vm
    }

    /// A block for `layout`, or null when the memory cannot grow.
    ///
    /// # Safety
    /// The free lists must only hold blocks this heap handed out and got
    /// back through `dealloc` (which the `GlobalAlloc` contract ensures).
    pub unsafe fn alloc(&mut self, layout: Layout) -> *mut u8 {
        let Some(class) = class_of(layout) else {
            let pages = layout.size().div_ceil(PAGE).max(1);
            return match self.vm.map(pages) {
                Ok(addr) => addr as *mut u8,
                Err(_) => ptr::null_mut(),
            };
        };
        if self.free[class] == 0 && !self.refill(class) {
            return ptr::null_mut();
        }
        let block = self.free[class];
        // SAFETY: `block` heads this class's free list, so it is a free block
        // of at least MIN_BLOCK bytes whose first word holds the next one.
        self.free[class] = unsafe { (block as *const usize).read() };
        block as *mut u8
    }

    /// Gives back a block `alloc` returned for the same layout.
    ///
    /// # Safety
    /// `block` must come from `alloc(layout)` on this heap and not have been
    /// freed since.
    pub unsafe fn dealloc(&mut self, block: *mut u8, layout: Layout) {
        match class_of(layout) {
            Some(class) => {
                // SAFETY: the block is ours, free now, and at least a word
                // long and word-aligned (MIN_BLOCK, aligned to its size).
                unsafe { (block as *mut usize).write(self.free[class]) };
                self.free[class] = block as usize;
            }
            None => {
                let pages = layout.size().div_ceil(PAGE).max(1);
                // A range `map` returned cannot fail to unmap.
                let _ = self.vm.unmap(block as usize, pages);
            }
        }
    }

    /// Cuts a fresh page into blocks of `class` and lists them.
    fn refill(&mut self, class: usize) -> bool {
        let Ok(page) = self.vm.map(1) else {
            return false;
        };
        let size = MIN_BLOCK << class;
        // Listed last block first, so blocks are handed out in address order.
        for block in (page..page + PAGE).step_by(size).rev() {
            // SAFETY: the page was just mapped for this list; each block lies
            // inside it and is word-aligned.
            unsafe { (block as *mut usize).write(self.free[class]) };
            self.free[class] = block;
        }
        true
    }
}

/// The global allocator of every capOS program (`wasm32`).
#[cfg(target_arch = "wasm32")]
pub struct ProgramHeap(core::cell::UnsafeCell<Heap<crate::vm::LinearMemory>>);

// SAFETY: a capOS program is one Worker running one thread
// (wasm32-unknown-unknown without the atomics feature has no threads), so
// the heap is never reached from two threads at once.
#[cfg(target_arch = "wasm32")]
unsafe impl Sync for ProgramHeap {}

#[cfg(target_arch = "wasm32")]
impl ProgramHeap {
    pub const fn new() -> Self {
        Self(core::cell::UnsafeCell::new(Heap::new(
            crate::vm::LinearMemory,
        )))
    }

    /// (pages mapped, pages free, pages grown) of the heap's VirtualMemory.
    pub fn stats(&self) -> (usize, usize, usize) {
        // SAFETY: one thread (above), and no allocation is under way while
        // this reads.
        unsafe { (*self.0.get()).vm().stats() }
    }
}

#[cfg(target_arch = "wasm32")]
impl Default for ProgramHeap {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: `alloc` returns blocks of at least the layout's size and
// alignment that no one else holds; `dealloc` takes them back. One thread
// (above) means no call overlaps another.
#[cfg(target_arch = "wasm32")]
unsafe impl core::alloc::GlobalAlloc for ProgramHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl's comment.
        unsafe { (*self.0.get()).alloc(layout) }
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: see the impl's comment; the caller passes a block of ours.
        unsafe { (*self.0.get()).dealloc(block, layout) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::{alloc_zeroed, dealloc};

    /// Pages from a 64 MiB, page-aligned arena.
    struct Arena {
        base: *mut u8,
        used: usize,
    }

    const ARENA: usize = 1024 * PAGE;

    impl Arena {
        fn new() -> Self {
            let layout = Layout::from_size_align(ARENA, PAGE).unwrap();
            // SAFETY: a non-zero size.
            let base = unsafe { alloc_zeroed(layout) };
            assert!(!base.is_null());
            Self { base, used: 0 }
        }
    }

    impl Drop for Arena {
        fn drop(&mut self) {
            // SAFETY: allocated in `new` with this layout.
            unsafe { dealloc(self.base, Layout::from_size_align(ARENA, PAGE).unwrap()) }
        }
    }

    impl Pages for Arena {
        fn grow(&mut self, pages: usize) -> Option<usize> {
            if self.used + pages * PAGE > ARENA {
                return None;
            }
            let at = self.base as usize + self.used;
            self.used += pages * PAGE;
            Some(at)
        }
        fn zero(&mut self, addr: usize, len: usize) {
            // SAFETY: inside the arena (the heap only zeroes what it mapped).
            unsafe { ptr::write_bytes(addr as *mut u8, 0, len) }
        }
    }

    #[test]
    fn classes_cover_sizes_and_alignments() {
        let l = |s, a| Layout::from_size_align(s, a).unwrap();
        assert_eq!(class_of(l(1, 1)), Some(0));
        assert_eq!(class_of(l(16, 8)), Some(0));
        assert_eq!(class_of(l(17, 1)), Some(1));
        assert_eq!(class_of(l(8, 64)), Some(2), "alignment picks the class");
        assert_eq!(class_of(l(32768, 8)), Some(11));
        assert_eq!(class_of(l(32769, 8)), None);
    }

    #[test]
    fn blocks_are_distinct_aligned_reused_and_large_ones_unmapped() {
        let mut heap = Heap::new(Arena::new());
        let mut live = Vec::new();
        for (i, size) in [1usize, 16, 24, 100, 1000, 5000, 40_000, 200_000]
            .iter()
            .cycle()
            .take(400)
            .enumerate()
        {
            let align = 1 << (i % 7);
            let layout = Layout::from_size_align(*size, align).unwrap();
            // SAFETY: blocks go back through dealloc with their layout below.
            let block = unsafe { heap.alloc(layout) };
            assert!(!block.is_null());
            assert_eq!(block as usize % align, 0);
            // SAFETY: the block is ours and `size` long.
            unsafe { ptr::write_bytes(block, (i % 251) as u8, *size) };
            live.push((block, layout, (i % 251) as u8));
        }
        // No two live blocks overlap: each still holds its own fill.
        for &(block, layout, fill) in &live {
            // SAFETY: live blocks of this heap.
            let bytes = unsafe { std::slice::from_raw_parts(block, layout.size()) };
            assert!(bytes.iter().all(|b| *b == fill));
        }
        let (mapped, _, grown) = heap.vm().stats();
        for (block, layout, _) in live.drain(..) {
            // SAFETY: each block once, with its layout.
            unsafe { heap.dealloc(block, layout) };
        }
        // Large blocks went back to VirtualMemory; small ones stay listed.
        let (after, free, grown_after) = heap.vm().stats();
        assert!(after < mapped && free > 0 && grown_after == grown);
        // Freed blocks are reused before the memory grows again.
        for _ in 0..100 {
            // SAFETY: never freed; the arena goes with the heap.
            let block = unsafe { heap.alloc(Layout::from_size_align(200_000, 8).unwrap()) };
            assert!(!block.is_null());
            // SAFETY: the block is ours.
            unsafe { heap.dealloc(block, Layout::from_size_align(200_000, 8).unwrap()) };
        }
        assert_eq!(heap.vm().stats().2, grown, "no growth for reused pages");
    }

    #[test]
    fn out_of_memory_is_null_not_a_panic() {
        let mut heap = Heap::new(Arena::new());
        let huge = Layout::from_size_align(ARENA * 2, 8).unwrap();
        // SAFETY: a failed allocation hands out nothing.
        assert!(unsafe { heap.alloc(huge) }.is_null());
    }
}
