@0xc2b7f0e4a9d35c61;
# HTTP through the browser's fetch, as capabilities. `Fetch` reaches any
# http(s) URL; an `HttpEndpoint` reaches one origin, fixed when it is minted
# from a `Fetch` (by a policy process: the kernel never mints one itself).
# A process with neither has no way to the network.
#
# Failures are error completions whose message says what happened:
# `Denied` (another origin, a redirect off the origin, a forbidden header,
# CORS), `BadParams` (a URL that is not http(s), a malformed header),
# `TooLarge` (a body or header over its limit), `PeerGone` (a network
# failure, a timeout, a cancelled body). docs/host-capabilities.md lists the
# limits.

using Cap = import "cap.capnp";

struct HttpHeader {
  name @0 :Text;
  value @1 :Text;
}

struct HttpRequest {
  method @0 :Text;
  # Empty means GET.
  url @1 :Text;
  # An absolute http(s) URL. Through an `HttpEndpoint` also a path on its
  # origin ("/api?q=1"); through a `Fetch`, a path on the site capOS was
  # loaded from.
  headers @2 :List(HttpHeader);
  body @3 :Data;
  # Sent as is. A request must fit in one call; a larger body goes through
  # `begin` and an HttpUpload.
  timeoutMs @4 :UInt32;
  # Until the response head arrives; 0 means 30 s.
}

struct HttpResponse {
  status @0 :UInt16;
  statusText @1 :Text;
  url @2 :Text;
  # The URL that answered (after same-origin redirects Fetch followed).
  redirected @3 :Bool;
  headers @4 :List(HttpHeader);
  body @5 :Cap.CapRef;
  # An HttpBody: the body, read in chunks as it arrives.
}

interface Fetch {
  fetch @0 (request :HttpRequest) -> (response :HttpResponse);
  # Sends `request` and completes when the response head has arrived.
  # Redirects are followed.

  endpoint @1 (origin :Text) -> (endpoint :Cap.CapRef);
  # An HttpEndpoint bound to `origin` ("https://example.com",
  # "http://127.0.0.1:8080"; any path is refused).

  begin @2 (request :HttpRequest) -> (upload :Cap.CapRef);
  # Checks `request` as `fetch` would and returns an HttpUpload that takes
  # its body in parts, then sends it.
}

interface HttpEndpoint {
  fetch @0 (request :HttpRequest) -> (response :HttpResponse);
  # As Fetch.fetch, for a URL on this endpoint's origin only. A redirect
  # is refused rather than followed: the browser hides where it points, so
  # the endpoint could not tell whether it stays on the origin.

  origin @1 () -> (origin :Text);

  begin @2 (request :HttpRequest) -> (upload :Cap.CapRef);
  # As Fetch.begin, on this endpoint's origin.
}

interface HttpUpload {
  write @0 (data :Data) -> (size :UInt64);
  # Appends to the request body; returns its size so far (at most 64 MiB).

  send @1 () -> (response :HttpResponse);
  # Sends the request with the whole body, as `fetch` does. Once only.
}

interface HttpBody {
  read @0 (max :UInt32) -> (data :Data, eof :Bool);
  # Up to `max` bytes (at most one ring slot's worth) of the body, in order;
  # blocks until some arrive. `eof` with no data once it has all been read.
  # Several reads may be in flight: they complete in the order made.

  cancel @1 () -> ();
  # Stops the transfer; reads after it fail. Dropping the capability
  # cancels too.
}
