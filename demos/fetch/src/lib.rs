//! `fetch`: init is the policy process. It holds Fetch, mints an
//! HttpEndpoint for origin A, and spawns two children: `fetch-client` gets
//! that endpoint (and reaches A, and nothing else: not origin B, not a
//! redirect from A to B), `fetch-nothing` gets no network capability at all
//! (and finds no way to one). Origin B sends no CORS headers, so even
//! init's unattenuated Fetch is refused by the browser there, with a
//! message that says it was CORS.
#![cfg(target_arch = "wasm32")]

use capos_rt::config::ring::CapError;
use capos_rt::http::{Request, Response};
use capos_rt::{
    BootPackage, CapRef, Console, Env, Error, Fetch, HttpEndpoint, Names, ProcessSpawner,
};
use capos_schema::interfaces;

capos_rt::entry!(main);

fn main(env: &Env) -> Result<(), Error> {
    capos_rt::by_role(
        env,
        &[
            ("init", init),
            ("fetch-client", client),
            ("fetch-nothing", nothing),
        ],
    )
}

/// The bytes `/bytes?n=N` sends: byte i is `i % 251`.
fn expected_byte(i: usize) -> u8 {
    (i % 251) as u8
}

/// `"a"`, `"b"` and `"closed"` of the site's `/demo-http/origins.json`.
fn origins(fetch: &Fetch) -> Result<(String, String, String), Error> {
    let mut response = fetch.fetch(&Request::get("/demo-http/origins.json"))?;
    let body = response.body.read_to_end(4096)?;
    let text = String::from_utf8_lossy(&body);
    let field = |name: &str| {
        let start = text.find(&format!("\"{name}\":\""))? + name.len() + 4;
        let end = start + text[start..].find('"')?;
        Some(text[start..end].to_string())
    };
    match (response.status, field("a"), field("b"), field("closed")) {
        (200, Some(a), Some(b), Some(closed)) => Ok((a, b, closed)),
        _ => Err(Error::Other(format!(
            "this site lists no demo origins (HTTP {} for /demo-http/origins.json); \
             the fetch demo needs the loopback origins `capos serve` starts",
            response.status
        ))),
    }
}

fn refusal(e: &Error) -> String {
    match e {
        Error::Cap { error, message } => format!("refused ({error:?}): {message}"),
        other => format!("failed: {other}"),
    }
}

fn init(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let fetch = Fetch::open(env, "fetch")?;
    let (a, b, closed) = origins(&fetch)?;
    console.write_line(&format!(
        "fetch: init holds Fetch; origin A is {a} (sends CORS headers), origin B is {b} (sends none)"
    ))?;
    match fetch.fetch(&Request::get(&format!("{b}/hello"))) {
        Ok(r) => {
            return Err(Error::Other(format!(
                "origin B answered a cross-origin fetch without CORS headers (HTTP {})",
                r.status
            )));
        }
        Err(e) => console.write_line(&format!("fetch: init's Fetch of B/hello {}", refusal(&e)))?,
    }
    // A loopback port nobody listens on.
    match fetch.fetch(&Request::get(&format!("{closed}/"))) {
        Ok(r) => console.write_line(&format!("fetch: {closed} answered (HTTP {})", r.status))?,
        Err(e) => console.write_line(&format!(
            "fetch: init's Fetch of a closed port {}",
            refusal(&e)
        ))?,
    }
    let slow_url = format!("{a}/slow?ms=5000");
    let slow = Request {
        timeout_ms: 300,
        ..Request::get(&slow_url)
    };
    match fetch.fetch(&slow) {
        Ok(r) => {
            return Err(Error::Other(format!(
                "a 300 ms timeout did not stop a 5 s answer (HTTP {})",
                r.status
            )));
        }
        Err(e) => console.write_line(&format!("fetch: init's Fetch of A/slow {}", refusal(&e)))?,
    }
    let endpoint = fetch.endpoint(&a)?;
    console.write_line(&format!(
        "fetch: init minted an HttpEndpoint bound to {}",
        endpoint.origin()?
    ))?;
    let spawner = ProcessSpawner::open(env, "spawner")?;
    let boot = BootPackage::open(env, "boot")?;
    let mut names = Names::from_capset(&env.capset);
    names.insert("origin-a", endpoint.cap());
    let mut children = Vec::new();
    for spec in boot.children()? {
        let handle = spawner.spawn_child_with_args(&spec, &names, &[&a, &b])?;
        let name = spec.argv.join(" ");
        console.write_line(&format!("fetch: spawned {name} as pid {}", handle.pid))?;
        children.push((name, handle));
    }
    let mut failed = 0;
    for (name, handle) in &children {
        let (code, reason) = handle.wait()?;
        console.write_line(&format!("fetch: {name} (pid {}) {reason}", handle.pid))?;
        failed += usize::from(code != 0);
    }
    if failed > 0 {
        return Err(Error::Other(format!("{failed} process(es) failed")));
    }
    console.write_line("fetch: every check passed")?;
    Ok(())
}

/// Expects `outcome` to be refused with `error`; says so.
fn expect_refused(
    console: &Console,
    what: &str,
    outcome: Result<Response, Error>,
    error: CapError,
) -> Result<(), Error> {
    match outcome {
        Err(Error::Cap {
            error: got,
            message,
        }) if got == error => {
            console.write_line(&format!("fetch-client: {what}: refused: {message}"))
        }
        Err(e) => Err(Error::Other(format!("{what}: wanted {error:?}, got {e}"))),
        Ok(r) => Err(Error::Other(format!(
            "{what}: was answered (HTTP {}), not refused",
            r.status
        ))),
    }
}

fn client(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let endpoint = HttpEndpoint::open(env, "origin-a")?;
    let (Some(a), Some(b)) = (env.argv.get(1), env.argv.get(2)) else {
        return Err(Error::Other("usage: fetch-client ORIGIN-A ORIGIN-B".into()));
    };
    let mut hello = endpoint.fetch(&Request::get("/hello"))?;
    let text = hello.body.read_to_end(1024)?;
    console.write_line(&format!(
        "fetch-client: GET {a}/hello: {} {}: {}",
        hello.status,
        hello.status_text,
        String::from_utf8_lossy(&text).trim_end()
    ))?;
    expect_refused(
        &console,
        &format!("GET {b}/hello through the endpoint for A"),
        endpoint.fetch(&Request::get(&format!("{b}/hello"))),
        CapError::Denied,
    )?;
    expect_refused(
        &console,
        "GET A/redirect to B",
        endpoint.fetch(&Request::get(&format!("/redirect?to={b}/hello"))),
        CapError::Denied,
    )?;
    let mut echo = endpoint.fetch(&Request {
        method: "POST",
        url: "/echo",
        headers: &[("Content-Type", "application/octet-stream")],
        body: b"ping \x00\xff bytes stay bytes",
        timeout_ms: 0,
    })?;
    let echoed = echo.body.read_to_end(1024)?;
    if echoed != b"ping \x00\xff bytes stay bytes" {
        return Err(Error::Other(format!("POST /echo came back as {echoed:?}")));
    }
    console.write_line(&format!(
        "fetch-client: POST {a}/echo: {} bytes back, byte for byte",
        echoed.len()
    ))?;
    let upload: Vec<u8> = (0..100_000u32).map(|i| (i * 13 % 256) as u8).collect();
    let mut echo = endpoint.fetch(&Request {
        method: "POST",
        url: "/echo",
        headers: &[],
        body: &upload,
        timeout_ms: 0,
    })?;
    if echo.body.read_to_end(1 << 20)? != upload {
        return Err(Error::Other("a 100,000-byte POST came back changed".into()));
    }
    console.write_line(&format!(
        "fetch-client: POST {a}/echo with a {}-byte body (an HttpUpload): echoed intact",
        upload.len()
    ))?;
    let n = 1_000_000;
    let mut big = endpoint.fetch(&Request::get(&format!("/bytes?n={n}")))?;
    let mut seen = 0;
    let mut parts = 0;
    big.body.for_each_part(|part| {
        for (k, byte) in part.iter().enumerate() {
            if *byte != expected_byte(seen + k) {
                return Err(Error::Other(format!(
                    "byte {} of the body is wrong",
                    seen + k
                )));
            }
        }
        seen += part.len();
        parts += 1;
        Ok(())
    })?;
    if seen != n {
        return Err(Error::Other(format!("read {seen} bytes of {n}")));
    }
    console.write_line(&format!(
        "fetch-client: GET {a}/bytes: {seen} bytes in {parts} reads, every byte as sent"
    ))?;
    Ok(())
}

fn nothing(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let network = [
        interfaces::fetch::INTERFACE_ID,
        interfaces::http_endpoint::INTERFACE_ID,
    ];
    let held = env
        .capset
        .entries()
        .iter()
        .filter(|e| network.contains(&e.interface_id))
        .count();
    // Guessing: every small id, as an HttpEndpoint. None may answer.
    let mut answered = 0;
    for cap_id in 0..256 {
        let cap = CapRef {
            cap_id,
            interface_id: interfaces::http_endpoint::INTERFACE_ID,
        };
        if let Ok(e) = HttpEndpoint::from_cap(cap)
            && e.origin().is_ok()
        {
            answered += 1;
        }
    }
    console.write_line(&format!(
        "fetch-nothing: {held} network capabilities in my CapSet; 256 guessed ids, {answered} answered as an HttpEndpoint"
    ))?;
    if held + answered > 0 {
        return Err(Error::Other(
            "a process granted nothing reached the network".into(),
        ));
    }
    Ok(())
}
