//! `Display` (schema/display.capnp) over the generated client.

use crate::{CapRef, Error};
use capos_schema::display_capnp::{DisplayEvent, display};
use capos_schema::interfaces::display as iface;

/// Most bytes of pixels one `put` carries (it must fit a ring slot).
const PUT_MAX: usize = capos_config::ring::SLOT_DATA_SIZE as usize - 128;
/// Puts sent with one kernel wake-up.
const PUTS_PER_BATCH: usize = 64;

/// What the page said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Nothing within the timeout.
    None,
    /// The pane is now `width` x `height`.
    Resized { width: u32, height: u32 },
    /// The person closed the display.
    Closed,
}

crate::capability!(Display, display);

impl Display {
    pub fn size(&self) -> Result<(u32, u32), Error> {
        let response = self.client.size_request().send()?;
        let r = response.get()?;
        Ok((r.get_width(), r.get_height()))
    }

    pub fn resize(&self, width: u32, height: u32) -> Result<(), Error> {
        let mut call = self.client.resize_request();
        call.get().set_width(width);
        call.get().set_height(height);
        call.send().map(drop)
    }

    /// Draws a whole `width` x `height` frame of RGBA pixels at (0, 0), as
    /// strips that each fit one call, many calls per kernel wake-up.
    pub fn draw(&self, width: u32, height: u32, rgba: &[u8]) -> Result<(), Error> {
        let row = width as usize * 4;
        if row == 0 || rgba.len() != row * height as usize {
            return Err(Error::Other(format!(
                "a {width}x{height} frame is {} bytes, not {}",
                row * height as usize,
                rgba.len()
            )));
        }
        // Whole rows when they fit a call, else pieces of one row.
        let mut pieces = Vec::new();
        if row <= PUT_MAX {
            let rows = PUT_MAX / row;
            for y in (0..height).step_by(rows) {
                let h = (height - y).min(rows as u32);
                let start = y as usize * row;
                pieces.push((0, y, width, h, &rgba[start..start + h as usize * row]));
            }
        } else {
            let span = (PUT_MAX / 4) as u32;
            for y in 0..height {
                for x in (0..width).step_by(span as usize) {
                    let w = (width - x).min(span);
                    let start = y as usize * row + x as usize * 4;
                    pieces.push((x, y, w, 1, &rgba[start..start + w as usize * 4]));
                }
            }
        }
        for batch in pieces.chunks(PUTS_PER_BATCH) {
            let params: Vec<Vec<u8>> = batch
                .iter()
                .map(|&(x, y, w, h, data)| {
                    let mut m = crate::message::builder();
                    let mut p = m.init_root::<display::put_params::Builder<'_>>();
                    p.set_x(x);
                    p.set_y(y);
                    p.set_width(w);
                    p.set_height(h);
                    p.set_rgba(data);
                    crate::message::bytes(&m)
                })
                .collect();
            let calls: Vec<(CapRef, u16, &[u8])> = params
                .iter()
                .map(|p| (self.cap(), iface::method::PUT, p.as_slice()))
                .collect();
            for outcome in crate::call_batch(&calls)? {
                outcome?;
            }
        }
        Ok(())
    }

    /// Shows what has been drawn; returns once the page has drawn it.
    pub fn present(&self) -> Result<u64, Error> {
        Ok(self.client.present_request().send()?.get()?.get_frame())
    }

    /// The next event, waiting at most `timeout_ns` (0: only what is queued).
    pub fn next_event(&self, timeout_ns: u64) -> Result<Event, Error> {
        let mut call = self.client.next_event_request();
        call.get().set_timeout_ns(timeout_ns);
        let response = call.send()?;
        let r = response.get()?;
        Ok(match r.get_event()? {
            DisplayEvent::None => Event::None,
            DisplayEvent::Resized => Event::Resized {
                width: r.get_width(),
                height: r.get_height(),
            },
            DisplayEvent::Closed => Event::Closed,
        })
    }
}
