//! WASI preview1 errno numbers: what `Directory`/`File` results carry
//! (schema/fs.capnp) and what the WASI shim returns to a program. One table
//! for the kernel and the shim, so the two cannot disagree.
//!
//! Each constant is the specification's name (`errno::noent`) upper-cased
//! with POSIX's `E` prefix, as `errno.h` spells it; [`SUCCESS`] is no error.
//! Only the numbers capOS uses are here.

pub type Errno = u16;

pub const SUCCESS: Errno = 0;
pub const E2BIG: Errno = 1;
pub const EACCES: Errno = 2;
pub const EAGAIN: Errno = 6;
pub const ECANCELED: Errno = 11;
pub const ECONNREFUSED: Errno = 14;
pub const ECONNRESET: Errno = 15;
pub const EBADF: Errno = 8;
pub const EEXIST: Errno = 20;
pub const EFAULT: Errno = 21;
pub const EFBIG: Errno = 22;
pub const EILSEQ: Errno = 25;
pub const EINVAL: Errno = 28;
pub const EIO: Errno = 29;
pub const EISDIR: Errno = 31;
pub const ELOOP: Errno = 32;
pub const EMFILE: Errno = 33;
pub const EMSGSIZE: Errno = 35;
pub const ENAMETOOLONG: Errno = 37;
pub const ENOBUFS: Errno = 42;
pub const ENOSPC: Errno = 51;
pub const ENOENT: Errno = 44;
pub const ENOSYS: Errno = 52;
pub const ENOTCONN: Errno = 53;
pub const ENOTDIR: Errno = 54;
pub const ENOTEMPTY: Errno = 55;
pub const ENOTSOCK: Errno = 57;
pub const ENOTSUP: Errno = 58;
pub const EPERM: Errno = 63;
pub const EPIPE: Errno = 64;
pub const ESPIPE: Errno = 70;
pub const ETIMEDOUT: Errno = 73;
pub const EXDEV: Errno = 75;
pub const ENOTCAPABLE: Errno = 76;
