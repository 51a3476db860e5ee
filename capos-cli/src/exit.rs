//! Exit codes of `capos` besides init's own (sysexits.h where one fits).

pub const OK: u8 = 0;
/// `capos daemon status`: no daemon runs (as `systemctl status` says it).
pub const NOT_RUNNING: u8 = 3;
/// Unknown demo name, or a manifest file that can't be read or compiled.
pub const USAGE: u8 = 64;
/// The kernel refused the manifest.
pub const BAD_MANIFEST: u8 = 65;
/// The browser, its driver or the server could not run.
pub const UNAVAILABLE: u8 = 69;
/// The kernel panicked.
pub const KERNEL_PANIC: u8 = 70;
/// A file could not be written (`capos build-site`).
pub const CANT_CREATE: u8 = 73;
/// Nothing halted within `--timeout`.
pub const TIMEOUT: u8 = 124;

/// A failure with the exit code it maps to.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}
