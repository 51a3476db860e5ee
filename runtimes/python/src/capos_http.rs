//! `_capos_http`: capOS's `capos_http` import module (the `capos-http`
//! crate) as Python functions, for the `capos` module (`capos.py`) to build
//! `capos.fetch` on. Without a Fetch or HttpEndpoint capability every
//! request raises `PermissionError` (ENOTCAPABLE) with the shim's reason.

#[rustpython_vm::pymodule]
pub mod _capos_http {
    use rustpython_vm::builtins::{PyBaseExceptionRef, PyBytesRef};
    use rustpython_vm::{PyResult, VirtualMachine};

    /// The OSError subclass for the errno (PermissionError for EACCES and
    /// ENOTCAPABLE, ConnectionRefusedError, TimeoutError...), with the
    /// shim's message.
    fn error(vm: &VirtualMachine, failure: capos_http::Failure) -> PyBaseExceptionRef {
        let kind = match failure.errno {
            capos_http::EACCES | capos_http::ENOTCAPABLE => vm.ctx.exceptions.permission_error,
            capos_http::ECONNREFUSED => vm.ctx.exceptions.connection_refused_error,
            capos_http::ETIMEDOUT => vm.ctx.exceptions.timeout_error,
            capos_http::EINVAL | capos_http::EMSGSIZE => vm.ctx.exceptions.value_error,
            _ => vm.ctx.exceptions.os_error,
        };
        vm.new_exception_msg(kind.to_owned(), failure.message.into())
    }

    /// `(handle, status, headers)`; headers as `name: value\n` lines.
    #[pyfunction]
    fn request(
        method: String,
        url: String,
        headers: String,
        body: PyBytesRef,
        timeout_ms: u32,
        vm: &VirtualMachine,
    ) -> PyResult<(u32, u32, String)> {
        let head = capos_http::request(&method, &url, &headers, body.as_bytes(), timeout_ms)
            .map_err(|f| error(vm, f))?;
        Ok((head.handle, head.status, head.headers))
    }

    /// Up to `size` bytes of the body; empty at its end.
    #[pyfunction]
    fn read(handle: u32, size: u32, vm: &VirtualMachine) -> PyResult<Vec<u8>> {
        capos_http::read(handle, size.clamp(1, 1 << 20) as usize).map_err(|f| error(vm, f))
    }

    #[pyfunction]
    fn close(handle: u32) {
        capos_http::close(handle);
    }
}
