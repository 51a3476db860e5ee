//! A ring in ordinary memory, for host tests and for the kernel's unit tests.

use super::{RING_SIZE, RingMemory};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

/// A ring backed by atomic words in this address space. `notify` only counts
/// wakes, so tests can assert that completions rang the doorbell.
pub struct LocalRing {
    words: Box<[AtomicU32]>,
    notifies: AtomicU32,
}

impl LocalRing {
    pub fn new() -> Self {
        Self::with_size(RING_SIZE)
    }

    pub fn with_size(bytes: usize) -> Self {
        let words: Vec<AtomicU32> = (0..bytes.div_ceil(4)).map(|_| AtomicU32::new(0)).collect();
        Self {
            words: words.into_boxed_slice(),
            notifies: AtomicU32::new(0),
        }
    }

    /// How many times `notify` was called.
    pub fn notify_count(&self) -> u32 {
        self.notifies.load(Ordering::Relaxed)
    }

    fn word(&self, offset: usize) -> &AtomicU32 {
        assert!(
            offset.is_multiple_of(4),
            "unaligned ring word offset {offset}"
        );
        &self.words[offset / 4]
    }
}

impl Default for LocalRing {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for LocalRing {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LocalRing")
            .field("bytes", &(self.words.len() * 4))
            .finish()
    }
}

impl RingMemory for LocalRing {
    fn load(&self, offset: usize) -> u32 {
        self.word(offset).load(Ordering::Acquire)
    }
    fn store(&self, offset: usize, value: u32) {
        self.word(offset).store(value, Ordering::Release)
    }
    fn fetch_add(&self, offset: usize, value: u32) -> u32 {
        self.word(offset).fetch_add(value, Ordering::AcqRel)
    }
    // Entries and Cap'n Proto messages are whole words at word-aligned
    // offsets: those go a word at a time, as the browser's glue copies them.
    fn read(&self, offset: usize, out: &mut [u8]) {
        if offset.is_multiple_of(4) && out.len().is_multiple_of(4) {
            let words = &self.words[offset / 4..(offset + out.len()) / 4];
            for (chunk, word) in out.chunks_exact_mut(4).zip(words) {
                chunk.copy_from_slice(&word.load(Ordering::Relaxed).to_le_bytes());
            }
            return;
        }
        for (i, byte) in out.iter_mut().enumerate() {
            let at = offset + i;
            let word = self.words[at / 4].load(Ordering::Relaxed);
            *byte = word.to_le_bytes()[at % 4];
        }
    }
    fn write(&self, offset: usize, data: &[u8]) {
        if offset.is_multiple_of(4) && data.len().is_multiple_of(4) {
            let words = &self.words[offset / 4..(offset + data.len()) / 4];
            for (chunk, word) in data.chunks_exact(4).zip(words) {
                let value = u32::from_le_bytes(chunk.try_into().expect("4 bytes"));
                word.store(value, Ordering::Relaxed);
            }
            return;
        }
        for (i, &byte) in data.iter().enumerate() {
            let at = offset + i;
            let word = &self.words[at / 4];
            let mut bytes = word.load(Ordering::Relaxed).to_le_bytes();
            bytes[at % 4] = byte;
            word.store(u32::from_le_bytes(bytes), Ordering::Relaxed);
        }
    }
    fn notify(&self, _offset: usize) {
        self.notifies.fetch_add(1, Ordering::Relaxed);
    }
    fn fence_seqcst(&self) {
        core::sync::atomic::fence(Ordering::SeqCst);
    }
}
