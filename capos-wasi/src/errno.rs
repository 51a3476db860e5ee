//! WASI preview1 errno values (the numbers the specification gives).

pub type Errno = u16;

pub const SUCCESS: Errno = 0;
pub const BADF: Errno = 8;
pub const ILSEQ: Errno = 25;
pub const FAULT: Errno = 21;
pub const FBIG: Errno = 22;
pub const INVAL: Errno = 28;
pub const IO: Errno = 29;
pub const ISDIR: Errno = 31;
pub const NAMETOOLONG: Errno = 37;
pub const NOSYS: Errno = 52;
pub const NOTDIR: Errno = 54;
pub const NOTSOCK: Errno = 57;
pub const NOTSUP: Errno = 58;
pub const SPIPE: Errno = 70;
pub const NOTCAPABLE: Errno = 76;
