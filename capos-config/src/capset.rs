//! The CapSet: the names under which a process finds the capabilities it was
//! booted with.
//!
//! The kernel encodes it when it spawns a process, the process Worker copies
//! it into the process's memory, and `capos-rt` parses it. It carries no
//! authority itself: each entry only says which `CapId` in the process's own
//! CapTable holds the capability granted under that name.
//!
//! ```text
//! header (8 bytes):  magic u32 "CSET" | version u16 | count u16
//! entry  (48 bytes): interface_id u64 | cap_id u32 | name_len u8 | 0 0 0 | name [32]
//! ```

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

pub const CAPSET_MAGIC: u32 = 0x5445_5343; // "CSET" little-endian
pub const CAPSET_VERSION: u16 = 1;
pub const CAPSET_HEADER_SIZE: usize = 8;
pub const CAPSET_ENTRY_SIZE: usize = 48;
pub const CAPSET_NAME_MAX: usize = 32;
/// Most entries a CapSet may have.
pub const CAPSET_MAX_ENTRIES: usize = 256;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapSetEntry {
    pub name: String,
    pub cap_id: u32,
    pub interface_id: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CapSetError {
    Truncated { needed: usize, got: usize },
    BadMagic(u32),
    UnsupportedVersion(u16),
    TooManyEntries(usize),
    BadName(String),
    DuplicateName(String),
    TrailingBytes(usize),
}

impl fmt::Display for CapSetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { needed, got } => {
                write!(f, "CapSet truncated: needs {needed} bytes, got {got}")
            }
            Self::BadMagic(m) => write!(f, "not a CapSet (magic {m:#x})"),
            Self::UnsupportedVersion(v) => write!(f, "unsupported CapSet version {v}"),
            Self::TooManyEntries(n) => {
                write!(f, "{n} CapSet entries (at most {CAPSET_MAX_ENTRIES})")
            }
            Self::BadName(n) => write!(
                f,
                "bad capability name {n:?}: 1-{CAPSET_NAME_MAX} bytes of ASCII letters, digits, '-', '_' or '.'"
            ),
            Self::DuplicateName(n) => write!(f, "capability name {n:?} appears twice"),
            Self::TrailingBytes(n) => write!(f, "{n} bytes after the last CapSet entry"),
        }
    }
}

/// Whether `name` may name a capability (in a CapSet or a manifest).
pub fn is_valid_cap_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= CAPSET_NAME_MAX
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A parsed CapSet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CapSet {
    entries: Vec<CapSetEntry>,
}

impl CapSet {
    pub fn new(entries: Vec<CapSetEntry>) -> Result<Self, CapSetError> {
        if entries.len() > CAPSET_MAX_ENTRIES {
            return Err(CapSetError::TooManyEntries(entries.len()));
        }
        for (i, e) in entries.iter().enumerate() {
            if !is_valid_cap_name(&e.name) {
                return Err(CapSetError::BadName(e.name.clone()));
            }
            if entries[..i].iter().any(|prev| prev.name == e.name) {
                return Err(CapSetError::DuplicateName(e.name.clone()));
            }
        }
        Ok(Self { entries })
    }

    pub fn entries(&self) -> &[CapSetEntry] {
        &self.entries
    }

    pub fn find(&self, name: &str) -> Option<&CapSetEntry> {
        self.entries.iter().find(|e| e.name == name)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(CAPSET_HEADER_SIZE + self.entries.len() * CAPSET_ENTRY_SIZE);
        out.extend_from_slice(&CAPSET_MAGIC.to_le_bytes());
        out.extend_from_slice(&CAPSET_VERSION.to_le_bytes());
        out.extend_from_slice(&(self.entries.len() as u16).to_le_bytes());
        for e in &self.entries {
            out.extend_from_slice(&e.interface_id.to_le_bytes());
            out.extend_from_slice(&e.cap_id.to_le_bytes());
            out.push(e.name.len() as u8);
            out.extend_from_slice(&[0; 3]);
            let mut name = [0u8; CAPSET_NAME_MAX];
            name[..e.name.len()].copy_from_slice(e.name.as_bytes());
            out.extend_from_slice(&name);
        }
        out
    }

    /// Parses and validates an encoded CapSet; never panics on any input.
    pub fn parse(bytes: &[u8]) -> Result<Self, CapSetError> {
        let header = bytes
            .get(..CAPSET_HEADER_SIZE)
            .ok_or(CapSetError::Truncated {
                needed: CAPSET_HEADER_SIZE,
                got: bytes.len(),
            })?;
        let magic = u32::from_le_bytes(header[0..4].try_into().expect("4 bytes"));
        if magic != CAPSET_MAGIC {
            return Err(CapSetError::BadMagic(magic));
        }
        let version = u16::from_le_bytes(header[4..6].try_into().expect("2 bytes"));
        if version != CAPSET_VERSION {
            return Err(CapSetError::UnsupportedVersion(version));
        }
        let count = u16::from_le_bytes(header[6..8].try_into().expect("2 bytes")) as usize;
        if count > CAPSET_MAX_ENTRIES {
            return Err(CapSetError::TooManyEntries(count));
        }
        let needed = CAPSET_HEADER_SIZE + count * CAPSET_ENTRY_SIZE;
        if bytes.len() < needed {
            return Err(CapSetError::Truncated {
                needed,
                got: bytes.len(),
            });
        }
        if bytes.len() > needed {
            return Err(CapSetError::TrailingBytes(bytes.len() - needed));
        }
        let entries = bytes[CAPSET_HEADER_SIZE..]
            .chunks_exact(CAPSET_ENTRY_SIZE)
            .map(|raw| {
                let name_len = (raw[12] as usize).min(CAPSET_NAME_MAX);
                let name = core::str::from_utf8(&raw[16..16 + name_len])
                    .map_err(|_| CapSetError::BadName("<not UTF-8>".to_string()))?;
                Ok(CapSetEntry {
                    interface_id: u64::from_le_bytes(raw[0..8].try_into().expect("8 bytes")),
                    cap_id: u32::from_le_bytes(raw[8..12].try_into().expect("4 bytes")),
                    name: name.to_string(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn entry(name: &str, cap_id: u32) -> CapSetEntry {
        CapSetEntry {
            name: name.to_string(),
            cap_id,
            interface_id: 0xabc0_0000_0000_0000 | cap_id as u64,
        }
    }

    #[test]
    fn encode_then_parse_round_trips_and_finds_by_name() {
        let set = CapSet::new(vec![entry("console", 0x10001), entry("spawner", 0x10002)]).unwrap();
        let bytes = set.encode();
        assert_eq!(bytes.len(), CAPSET_HEADER_SIZE + 2 * CAPSET_ENTRY_SIZE);
        let parsed = CapSet::parse(&bytes).unwrap();
        assert_eq!(parsed, set);
        assert_eq!(parsed.find("spawner").unwrap().cap_id, 0x10002);
        assert_eq!(parsed.find("fetch"), None);
    }

    #[test]
    fn empty_capset_is_valid() {
        let bytes = CapSet::default().encode();
        assert_eq!(CapSet::parse(&bytes).unwrap().entries().len(), 0);
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let bytes = CapSet::new(vec![entry("console", 1)]).unwrap().encode();
        for len in 0..bytes.len() {
            assert!(CapSet::parse(&bytes[..len]).is_err(), "len {len}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(CapSet::parse(&long), Err(CapSetError::TrailingBytes(1)));
    }

    #[test]
    fn bad_headers_are_refused() {
        let mut bytes = CapSet::default().encode();
        bytes[0] ^= 1;
        assert!(matches!(
            CapSet::parse(&bytes),
            Err(CapSetError::BadMagic(_))
        ));
        let mut bytes = CapSet::default().encode();
        bytes[4] = 9;
        assert_eq!(
            CapSet::parse(&bytes),
            Err(CapSetError::UnsupportedVersion(9))
        );
        let mut bytes = CapSet::default().encode();
        bytes[6..8].copy_from_slice(&1000u16.to_le_bytes());
        assert_eq!(
            CapSet::parse(&bytes),
            Err(CapSetError::TooManyEntries(1000))
        );
    }

    #[test]
    fn names_are_validated_and_unique() {
        assert!(matches!(
            CapSet::new(vec![entry("", 1)]),
            Err(CapSetError::BadName(_))
        ));
        assert!(matches!(
            CapSet::new(vec![entry("has space", 1)]),
            Err(CapSetError::BadName(_))
        ));
        assert!(matches!(
            CapSet::new(vec![entry(&"x".repeat(33), 1)]),
            Err(CapSetError::BadName(_))
        ));
        assert!(matches!(
            CapSet::new(vec![entry("a", 1), entry("a", 2)]),
            Err(CapSetError::DuplicateName(_))
        ));
        let mut bytes = CapSet::new(vec![entry("ok", 1)]).unwrap().encode();
        bytes[CAPSET_HEADER_SIZE + 16] = 0xff;
        assert!(CapSet::parse(&bytes).is_err());
    }
}
