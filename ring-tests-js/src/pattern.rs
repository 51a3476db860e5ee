//! What entry `seq` of a run with seed `seed` contains, derived the same way
//! here and in web/pattern.js, so each side can check the other's entries
//! without sharing anything but the seed. Every field and payload byte
//! depends on a per-entry key, so a lost, repeated, stale or torn entry
//! does not match.

use capos_config::ring::{Cqe, OP_CALL, SLOT_DATA_SIZE, Sqe};

/// Random streams, one per role, so each side's batch sizes are its own.
pub const STREAM_SQ_CONSUMER: u32 = 0x5143_0002;
pub const STREAM_CQ_PRODUCER: u32 = 0x4350_0003;

/// murmur3's 32-bit finalizer: a bijection that mixes every input bit into
/// every output bit.
pub fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

pub fn entry_key(seed: u32, seq: u32) -> u32 {
    fmix32(seed ^ fmix32(seq.wrapping_add(0x9e37_79b9)))
}

/// 0..=SLOT_DATA_SIZE, mostly short: empty and full slots 1/64 each, then
/// up to 32, 256 and the whole slot.
pub fn payload_len(key: u32) -> usize {
    let spread = key >> 6;
    let len = match key & 63 {
        0 => 0,
        1 => SLOT_DATA_SIZE,
        2..=39 => spread % 33,
        40..=59 => spread % 257,
        _ => spread % (SLOT_DATA_SIZE + 1),
    };
    len as usize
}

/// Fills `out` with the payload of the entry keyed `key`: little-endian
/// words `key ^ (word index + 1) * golden`, distinct per word so a shifted
/// or repeated copy does not match.
pub fn fill_payload(key: u32, out: &mut Vec<u8>) {
    let len = payload_len(key);
    out.clear();
    out.extend((0..len).map(|i| payload_byte(key, i)));
}

pub fn payload_byte(key: u32, i: usize) -> u8 {
    let word = key ^ ((i as u32 >> 2) + 1).wrapping_mul(0x9e37_79b9);
    (word >> ((i as u32 & 3) * 8)) as u8
}

/// The SQE the JavaScript producer sends as entry `seq`.
pub fn expected_sqe(key: u32, seq: u32) -> Sqe {
    Sqe {
        user_data: u64::from(key) << 32 | u64::from(seq),
        interface_id: u64::from(!key) << 32 | u64::from(fmix32(key)),
        cap_id: key.rotate_right(7),
        method: key as u16,
        opcode: OP_CALL,
        flags: (key >> 24) as u8,
        data_len: payload_len(key) as u32,
    }
}

/// The CQE the Rust producer posts as entry `seq`.
pub fn cqe(key: u32, seq: u32) -> Cqe {
    Cqe {
        user_data: u64::from(key) << 32 | u64::from(seq),
        result: key as i32,
        data_len: payload_len(key) as u32,
        flags: key.rotate_right(13),
    }
}

/// mulberry32, as in web/pattern.js.
pub struct Mulberry32(u32);

impl Mulberry32 {
    pub fn new(seed: u32) -> Self {
        Self(seed)
    }

    pub fn next_u32(&mut self) -> u32 {
        self.0 = self.0.wrapping_add(0x6d2b_79f5);
        let mut t = self.0;
        t = (t ^ (t >> 15)).wrapping_mul(t | 1);
        t ^= t.wrapping_add((t ^ (t >> 7)).wrapping_mul(t | 61));
        t ^ (t >> 14)
    }

    /// A batch size in 1..=256, as likely to be tiny as large: a random
    /// power of two from 2 to 256 bounds a uniform draw.
    pub fn batch_size(&mut self) -> u32 {
        let r = self.next_u32();
        1 + (r >> 3) % (2 << (r & 7))
    }

    /// True once in `n` draws on average.
    pub fn one_in(&mut self, n: u32) -> bool {
        self.next_u32().is_multiple_of(n)
    }
}
