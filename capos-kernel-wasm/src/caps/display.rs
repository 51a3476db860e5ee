//! Display: one framebuffer per boot, shown on the page. Processes draw
//! RGBA rectangles into the kernel's copy with `put` and `present` it; the
//! page draws each frame on a canvas and says when it has (so presenting
//! runs at the page's pace), and sends events: the pane was resized, or the
//! person closed it. A closed display fails presents with `PeerGone`; it is
//! an event, never a crash.
//!
//! The page learns of the display at the first `present` (a long host
//! exchange, `DisplayOpen`), and it goes away when the last Display
//! capability is dropped.

use super::{Inspect, encode, results_builder, serve};
use crate::host::{Host, HostClient, HostReply, HostRequest};
use crate::kernel::{Kernel, TimerAction};
use capos_lib::{CallContext, CapError, Completion, Fault, Reply, Served, Service};
use capos_schema::display_capnp::{DisplayEvent, display};
use capos_schema::servers::display::Server;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

/// The largest display.
pub const MAX_WIDTH: u32 = 1920;
pub const MAX_HEIGHT: u32 = 1080;
/// A new display's size.
pub const DEFAULT_WIDTH: u32 = 640;
pub const DEFAULT_HEIGHT: u32 = 480;
/// Events kept for a process that does not read them; older ones go first.
const MAX_EVENTS: usize = 64;

struct Waiter {
    pid: u32,
    user_data: u64,
    timer: Option<u64>,
}

struct Screen {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
    /// The page's exchange, once a frame has been presented.
    exchange: Option<u32>,
    frame: u64,
    /// The caller of the present the page has not drawn yet.
    presenting: Option<(u32, u64)>,
    closed: bool,
    events: VecDeque<(DisplayEvent, u32, u32)>,
    waiters: VecDeque<Waiter>,
    /// Live Display capability objects; at zero the page's display goes.
    holders: usize,
}

impl Screen {
    fn black(width: u32, height: u32) -> Vec<u8> {
        let mut pixels = vec![0; (width * height * 4) as usize];
        for alpha in pixels.iter_mut().skip(3).step_by(4) {
            *alpha = 255;
        }
        pixels
    }
}

/// The boot's display, shared by every Display capability.
pub struct Displays {
    screen: RefCell<Screen>,
}

impl Default for Displays {
    fn default() -> Self {
        Self {
            screen: RefCell::new(Screen {
                width: DEFAULT_WIDTH,
                height: DEFAULT_HEIGHT,
                pixels: Screen::black(DEFAULT_WIDTH, DEFAULT_HEIGHT),
                exchange: None,
                frame: 0,
                presenting: None,
                closed: false,
                events: VecDeque::new(),
                waiters: VecDeque::new(),
                holders: 0,
            }),
        }
    }
}

fn event_completion(event: DisplayEvent, width: u32, height: u32) -> Completion {
    let mut message = results_builder();
    {
        let mut root = message.init_root::<display::next_event_results::Builder<'_>>();
        root.set_event(event);
        root.set_width(width);
        root.set_height(height);
    }
    encode(&message)
}

impl Displays {
    /// Hands queued events to waiting `nextEvent` calls.
    fn serve_events<H: Host>(&self, kernel: &mut Kernel<H>) {
        loop {
            let (waiter, event) = {
                let mut s = self.screen.borrow_mut();
                if s.events.is_empty() || s.waiters.is_empty() {
                    return;
                }
                (s.waiters.pop_front(), s.events.pop_front())
            };
            let (Some(waiter), Some((event, width, height))) = (waiter, event) else {
                return;
            };
            if let Some(timer) = waiter.timer {
                kernel.cancel_timer(timer);
            }
            let completion = event_completion(event, width, height);
            kernel.finish(waiter.pid, waiter.user_data, completion);
        }
    }
}

impl<H: Host> Service<Kernel<H>> for Displays {
    fn on_timer(&self, kernel: &mut Kernel<H>, timer: u64) {
        let waiter = {
            let mut s = self.screen.borrow_mut();
            let at = s.waiters.iter().position(|w| w.timer == Some(timer));
            at.and_then(|i| s.waiters.remove(i))
        };
        if let Some(w) = waiter {
            let completion = event_completion(DisplayEvent::None, 0, 0);
            kernel.finish(w.pid, w.user_data, completion);
        }
    }

    fn on_exit(&self, kernel: &mut Kernel<H>, pid: u32, _code: i32, _reason: &str) {
        let gone: Vec<Waiter> = {
            let mut s = self.screen.borrow_mut();
            let mut gone = Vec::new();
            for w in std::mem::take(&mut s.waiters) {
                if w.pid == pid {
                    gone.push(w);
                } else {
                    s.waiters.push_back(w);
                }
            }
            gone
        };
        for w in gone {
            if let Some(timer) = w.timer {
                kernel.cancel_timer(timer);
            }
        }
    }

    fn settle(&self, kernel: &mut Kernel<H>) {
        let close = {
            let mut s = self.screen.borrow_mut();
            if s.holders == 0 {
                s.exchange.take()
            } else {
                None
            }
        };
        if let Some(id) = close {
            kernel.host_continue(id, HostRequest::DisplayClose);
        }
    }
}

/// The page's replies for the display.
struct Page {
    displays: Rc<Displays>,
}

impl<H: Host> HostClient<H> for Page {
    fn on_reply(&self, kernel: &mut Kernel<H>, _id: u32, reply: HostReply) {
        match reply {
            HostReply::DisplayDrawn => {
                let (presenting, frame) = {
                    let mut s = self.displays.screen.borrow_mut();
                    (s.presenting.take(), s.frame)
                };
                if let Some((pid, user_data)) = presenting {
                    let mut message = results_builder();
                    message
                        .init_root::<display::present_results::Builder<'_>>()
                        .set_frame(frame);
                    kernel.finish(pid, user_data, encode(&message));
                }
            }
            HostReply::DisplayEvent {
                closed,
                width,
                height,
            } => {
                let presenting = {
                    let mut s = self.displays.screen.borrow_mut();
                    let event = if closed {
                        s.closed = true;
                        DisplayEvent::Closed
                    } else {
                        DisplayEvent::Resized
                    };
                    if s.events.len() == MAX_EVENTS {
                        s.events.pop_front();
                    }
                    s.events.push_back((event, width, height));
                    if closed { s.presenting.take() } else { None }
                };
                if let Some((pid, user_data)) = presenting {
                    kernel.finish(pid, user_data, closed_fault().into());
                }
                self.displays.serve_events(kernel);
            }
            // The exchange is over (the page could not show the display).
            HostReply::Failed { message, .. } => {
                let presenting = {
                    let mut s = self.displays.screen.borrow_mut();
                    s.closed = true;
                    s.exchange = None;
                    s.presenting.take()
                };
                if let Some((pid, user_data)) = presenting {
                    let fault = Fault::new(CapError::PeerGone, message);
                    kernel.finish(pid, user_data, fault.into());
                }
            }
            _ => {}
        }
    }
}

fn closed_fault() -> Fault {
    Fault::new(CapError::PeerGone, "the display was closed on the page")
}

/// A capability to the boot's display.
pub struct Display {
    displays: Rc<Displays>,
}

impl Display {
    pub fn new(displays: Rc<Displays>) -> Self {
        displays.screen.borrow_mut().holders += 1;
        Self { displays }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        self.displays.screen.borrow_mut().holders -= 1;
    }
}

impl Inspect for Display {
    fn describe(&self) -> Option<String> {
        let s = self.displays.screen.borrow();
        Some(format!("{}x{}", s.width, s.height))
    }
}
serve!(Display, display, inspect);

impl<H: Host> Server<Kernel<H>> for Display {
    fn size(
        &self,
        _kernel: &mut Kernel<H>,
        _call: &CallContext,
        _params: display::size_params::Reader<'_>,
        mut results: display::size_results::Builder<'_>,
    ) -> Reply {
        let s = self.displays.screen.borrow();
        results.set_width(s.width);
        results.set_height(s.height);
        Ok(Served::Done)
    }

    fn resize(
        &self,
        _kernel: &mut Kernel<H>,
        _call: &CallContext,
        params: display::resize_params::Reader<'_>,
        _results: display::resize_results::Builder<'_>,
    ) -> Reply {
        let (width, height) = (params.get_width(), params.get_height());
        if !(1..=MAX_WIDTH).contains(&width) || !(1..=MAX_HEIGHT).contains(&height) {
            return Err(Fault::bad_params(format!(
                "{width}x{height} is not a display size (1x1 to {MAX_WIDTH}x{MAX_HEIGHT})"
            )));
        }
        let mut s = self.displays.screen.borrow_mut();
        s.width = width;
        s.height = height;
        s.pixels = Screen::black(width, height);
        Ok(Served::Done)
    }

    fn put(
        &self,
        _kernel: &mut Kernel<H>,
        _call: &CallContext,
        params: display::put_params::Reader<'_>,
        _results: display::put_results::Builder<'_>,
    ) -> Reply {
        let (x, y) = (params.get_x(), params.get_y());
        let (w, h) = (params.get_width(), params.get_height());
        let rgba = params.get_rgba()?;
        let mut s = self.displays.screen.borrow_mut();
        let inside = x.checked_add(w).is_some_and(|r| r <= s.width)
            && y.checked_add(h).is_some_and(|b| b <= s.height);
        if !inside {
            return Err(Fault::bad_params(format!(
                "a {w}x{h} rectangle at ({x}, {y}) does not fit a {}x{} display",
                s.width, s.height
            )));
        }
        let row = (w * 4) as usize;
        if rgba.len() != row * h as usize {
            return Err(Fault::bad_params(format!(
                "a {w}x{h} rectangle is {} bytes of RGBA, not {}",
                row * h as usize,
                rgba.len()
            )));
        }
        let stride = (s.width * 4) as usize;
        for (i, src) in rgba.chunks_exact(row.max(1)).enumerate() {
            let at = (y as usize + i) * stride + x as usize * 4;
            s.pixels[at..at + row].copy_from_slice(src);
        }
        Ok(Served::Done)
    }

    fn present(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        _params: display::present_params::Reader<'_>,
        _results: display::present_results::Builder<'_>,
    ) -> Reply {
        let (exchange, width, height) = {
            let mut s = self.displays.screen.borrow_mut();
            if s.closed {
                return Err(closed_fault());
            }
            if s.presenting.is_some() {
                return Err(Fault::new(
                    CapError::Exhausted,
                    "a frame is already being presented; wait for it",
                ));
            }
            s.presenting = Some((call.caller, call.user_data));
            s.frame += 1;
            (s.exchange, s.width, s.height)
        };
        let id = match exchange {
            Some(id) => id,
            None => {
                let page = Rc::new(Page {
                    displays: self.displays.clone(),
                });
                let id = kernel.host_request(page, HostRequest::DisplayOpen { width, height });
                self.displays.screen.borrow_mut().exchange = Some(id);
                id
            }
        };
        let pixels = std::mem::take(&mut self.displays.screen.borrow_mut().pixels);
        kernel.host_continue(
            id,
            HostRequest::DisplayFrame {
                width,
                height,
                pixels: &pixels,
            },
        );
        self.displays.screen.borrow_mut().pixels = pixels;
        Ok(Served::Pending)
    }

    fn next_event(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: display::next_event_params::Reader<'_>,
        _results: display::next_event_results::Builder<'_>,
    ) -> Reply {
        let timeout = params.get_timeout_ns();
        let timer = (timeout != u64::MAX).then(|| {
            let service = self.displays.clone();
            kernel.set_timer(timeout, TimerAction::Notify { service })
        });
        self.displays.screen.borrow_mut().waiters.push_back(Waiter {
            pid: call.caller,
            user_data: call.user_data,
            timer,
        });
        self.displays.serve_events(kernel);
        Ok(Served::Pending)
    }
}
