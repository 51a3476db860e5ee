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

    thread_local! {
        /// The listening socket, found on the first `serve_next`, and the
        /// request being answered (one at a time).
        static SERVING: std::cell::RefCell<(Option<capos_http::serve::Listener>, Option<capos_http::serve::Request>)> =
            const { std::cell::RefCell::new((None, None)) };
    }

    /// The next request: `(method, path, headers, body)`, headers as
    /// `name: value\n` lines. Blocks until one arrives.
    #[pyfunction]
    fn serve_next(vm: &VirtualMachine) -> PyResult<(String, String, String, Vec<u8>)> {
        let request = SERVING.with(|s| {
            let mut s = s.borrow_mut();
            if s.0.is_none() {
                s.0 = Some(capos_http::serve::Listener::open()?);
            }
            s.0.as_ref().expect("opened").next()
        });
        let request = request.map_err(|f| error(vm, f))?;
        let out = (
            request.method.clone(),
            request.path.clone(),
            request.headers.clone(),
            request.body.clone(),
        );
        SERVING.with(|s| s.borrow_mut().1 = Some(request));
        Ok(out)
    }

    /// Answers the request `serve_next` returned.
    #[pyfunction]
    fn serve_respond(
        status: u16,
        headers: String,
        body: PyBytesRef,
        vm: &VirtualMachine,
    ) -> PyResult<()> {
        let Some(request) = SERVING.with(|s| s.borrow_mut().1.take()) else {
            return Err(vm.new_value_error("no request is waiting for a response".to_owned()));
        };
        request
            .respond(status, &headers, body.as_bytes())
            .map_err(|f| error(vm, f))
    }
}
