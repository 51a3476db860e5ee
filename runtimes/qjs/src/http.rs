//! HTTP for the prelude's `fetch()`, over capOS's `capos_http` import module
//! (the `capos-http` crate). Without a Fetch or HttpEndpoint capability every
//! request throws `ENOTCAPABLE` with the shim's reason.

use rquickjs::{Ctx, Exception, Object, Result, TypedArray, Value};

/// Bytes asked for per read.
const READ_CHUNK: usize = 64 * 1024;

/// Installs `httpRequest`, `httpRead` and `httpClose` on `target`.
pub fn install<'js>(ctx: &Ctx<'js>, target: &Object<'js>) -> Result<()> {
    use rquickjs::Function;
    let f = |name: &str, func: Function<'js>| target.set(name, func.with_name(name)?);
    f("httpRequest", Function::new(ctx.clone(), request)?)?;
    f("httpRead", Function::new(ctx.clone(), read)?)?;
    f("httpClose", Function::new(ctx.clone(), capos_http::close)?)?;
    f("serveNext", Function::new(ctx.clone(), serve_next)?)?;
    f("serveRespond", Function::new(ctx.clone(), serve_respond)?)?;
    Ok(())
}

thread_local! {
    /// The listening socket, found on the first `serveNext`, and the request
    /// being answered (one at a time).
    static SERVING: std::cell::RefCell<(Option<capos_http::serve::Listener>, Option<capos_http::serve::Request>)> =
        const { std::cell::RefCell::new((None, None)) };
}

/// The next request: `{ method, path, headers, body }` (headers as
/// `name: value\n` lines, body a Uint8Array). Blocks until one arrives.
fn serve_next(ctx: Ctx<'_>) -> Result<Object<'_>> {
    let request = SERVING.with(|s| {
        let mut s = s.borrow_mut();
        if s.0.is_none() {
            s.0 = Some(capos_http::serve::Listener::open()?);
        }
        s.0.as_ref().expect("opened").next()
    });
    let request = request.map_err(|f| throw(&ctx, &f))?;
    let out = Object::new(ctx.clone())?;
    out.set("method", request.method.as_str())?;
    out.set("path", request.path.as_str())?;
    out.set("headers", request.headers.as_str())?;
    out.set("body", TypedArray::new(ctx.clone(), request.body.clone())?)?;
    SERVING.with(|s| s.borrow_mut().1 = Some(request));
    Ok(out)
}

/// Answers the request `serveNext` returned (headers as `name: value` lines).
fn serve_respond<'js>(ctx: Ctx<'js>, status: u16, headers: String, body: Value<'js>) -> Result<()> {
    let body = crate::natives::bytes_of(&ctx, &body)?;
    let request = SERVING.with(|s| s.borrow_mut().1.take());
    let Some(request) = request else {
        return Err(Exception::throw_message(
            &ctx,
            "EINVAL: no request is waiting for a response",
        ));
    };
    request
        .respond(status, &headers, &body)
        .map_err(|f| throw(&ctx, &f))
}

/// Throws `CODE: why`, which the prelude turns into an Error with `.code`.
fn throw(ctx: &Ctx<'_>, failure: &capos_http::Failure) -> rquickjs::Error {
    Exception::throw_message(ctx, &format!("{}: {}", failure.code(), failure.message))
}

/// `{ handle, status, headers }` (headers as `name: value\n` lines).
fn request<'js>(
    ctx: Ctx<'js>,
    method: String,
    url: String,
    headers: String,
    body: Value<'js>,
    timeout_ms: f64,
) -> Result<Object<'js>> {
    let body = if body.is_undefined() || body.is_null() {
        Vec::new()
    } else {
        crate::natives::bytes_of(&ctx, &body)?
    };
    let timeout_ms = timeout_ms.clamp(0.0, f64::from(u32::MAX)) as u32;
    let head = capos_http::request(&method, &url, &headers, &body, timeout_ms)
        .map_err(|f| throw(&ctx, &f))?;
    let response = Object::new(ctx)?;
    response.set("handle", head.handle)?;
    response.set("status", head.status)?;
    response.set("headers", head.headers)?;
    Ok(response)
}

/// The next bytes of the body; empty at its end.
fn read(ctx: Ctx<'_>, handle: u32) -> Result<TypedArray<'_, u8>> {
    let bytes = capos_http::read(handle, READ_CHUNK).map_err(|f| throw(&ctx, &f))?;
    TypedArray::new(ctx, bytes)
}
