//! Just enough HTTP/1.1 to serve files: the request line of a GET or HEAD,
//! and a response that closes the connection.

use std::path::PathBuf;

/// Longest request head read before refusing it.
pub const MAX_HEAD: usize = 16 * 1024;

/// Where the head ends (just past the blank line), if it has.
pub fn head_end(request: &[u8]) -> Option<usize> {
    request
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
}

/// The response to `request` (its head complete, or `at_eof`: all the
/// client will send), logged on stdout.
pub fn respond(request: &[u8], root: &str, at_eof: bool) -> Vec<u8> {
    let head = match head_end(request) {
        Some(end) => &request[..end],
        None if at_eof => request,
        None => return error(400, "the request head is incomplete"),
    };
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.trim_end_matches('\r').split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return logged("?", "?", error(400, "malformed request line"));
    };
    if !version.starts_with("HTTP/1.") || parts.next().is_some() {
        return logged(method, target, error(400, "malformed request line"));
    }
    let response = match method {
        "GET" | "HEAD" => serve_file(root, target, method == "HEAD"),
        _ => error(405, "only GET and HEAD are served here"),
    };
    logged(method, target, response)
}

fn logged(method: &str, target: &str, response: Vec<u8>) -> Vec<u8> {
    let status = String::from_utf8_lossy(&response[9..12.min(response.len())]).into_owned();
    println!("{method} {target} {status}");
    response
}

fn serve_file(root: &str, target: &str, head_only: bool) -> Vec<u8> {
    let Some(path) = target.split(['?', '#']).next().and_then(percent_decode) else {
        return error(400, "the path is not valid percent-encoded UTF-8");
    };
    if !path.starts_with('/') || path.split('/').any(|s| s == "..") {
        return error(403, "paths must be absolute and stay inside the site");
    }
    let mut file = PathBuf::from(root);
    file.push(path.trim_start_matches('/'));
    if file.is_dir() {
        file.push("index.html");
    }
    match std::fs::read(&file) {
        Ok(body) => response(200, content_type(&file), &body, head_only),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            error(404, &format!("{path} is not on this site"))
        }
        Err(e) => error(500, &format!("{path} could not be read: {e}")),
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(path: &std::path::Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("txt" | "md") => "text/plain; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("wasm") => "application/wasm",
        _ => "application/octet-stream",
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        _ => "Internal Server Error",
    }
}

fn response(status: u16, content_type: &str, body: &[u8], head_only: bool) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\nServer: static-server (WASI)\r\n\r\n",
        reason(status),
        body.len()
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(body);
    }
    out
}

/// An error page.
pub fn error(status: u16, message: &str) -> Vec<u8> {
    let body = format!("{status} {}: {message}\n", reason(status));
    response(status, "text/plain; charset=utf-8", body.as_bytes(), false)
}
