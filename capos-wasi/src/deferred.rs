//! Checks for the calls the shim queues without waiting (see
//! `capos_rt::call_deferred`): each judges a completion's results when it
//! arrives, so a failure reported in the results is not lost.

use capos_schema::fs_capnp::file;
use capos_schema::rpc::Response;

/// A deferred `File.write` succeeded when its results carry no errno.
pub fn write_succeeded(results: &[u8]) -> Result<(), capos_rt::Error> {
    let response = Response::<file::write_results::Owned>::read(results)?;
    match response.get()?.get_errno() {
        0 => Ok(()),
        n => Err(capos_rt::Error::Errno(n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use capos_rt::config::errno::EFBIG;
    use capos_rt::message;

    fn write_results(errno: u16) -> Vec<u8> {
        let mut m = message::builder();
        let mut r = m.init_root::<file::write_results::Builder>();
        r.set_errno(errno);
        r.set_end(64);
        message::bytes(&m)
    }

    #[test]
    fn a_deferred_write_is_judged_by_its_errno() {
        assert!(write_succeeded(&write_results(0)).is_ok());
        let err = write_succeeded(&write_results(EFBIG)).unwrap_err();
        assert!(matches!(err, capos_rt::Error::Errno(EFBIG)), "{err}");
        assert!(write_succeeded(b"not a message").is_err());
    }
}
