//! `display`: Conway's Life on a 128 x 96 torus, drawn 5 pixels a cell on
//! the boot's Display (640 x 480, a canvas on the page), one presented frame
//! per generation. It stops after the generations argv[1] names, or when
//! the person closes the display (an event, not a failure), and says how
//! fast the frames went. Then it writes and reads back the Clipboard, which
//! the page may refuse: the refusal is printed, not fatal.
#![cfg(target_arch = "wasm32")]

use capos_rt::config::ring::CapError;
use capos_rt::display::Event;
use capos_rt::{Clipboard, Console, Display, Env, Error, Timer};

capos_rt::entry!(main);

const COLS: usize = 128;
const ROWS: usize = 96;
const CELL: usize = 5;
const WIDTH: u32 = (COLS * CELL) as u32;
const HEIGHT: u32 = (ROWS * CELL) as u32;

/// The first generation: a fifth of the cells alive, picked by a fixed
/// linear congruential sequence, so every run is the same.
fn seed() -> Vec<bool> {
    let mut cells = vec![false; COLS * ROWS];
    let mut x: u32 = 12345;
    for cell in cells.iter_mut() {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        *cell = (x >> 16).is_multiple_of(5);
    }
    cells
}

fn step(cells: &[bool]) -> Vec<bool> {
    let mut next = vec![false; cells.len()];
    for r in 0..ROWS {
        for c in 0..COLS {
            let mut n = 0;
            for dr in [ROWS - 1, 0, 1] {
                for dc in [COLS - 1, 0, 1] {
                    if (dr, dc) != (0, 0) && cells[((r + dr) % ROWS) * COLS + (c + dc) % COLS] {
                        n += 1;
                    }
                }
            }
            let alive = cells[r * COLS + c];
            next[r * COLS + c] = n == 3 || (alive && n == 2);
        }
    }
    next
}

fn render(cells: &[bool], generation: u64, frame: &mut [u8]) {
    let hue = (generation % 256) as u8;
    for y in 0..HEIGHT as usize {
        for x in 0..WIDTH as usize {
            let alive = cells[(y / CELL) * COLS + x / CELL];
            let px = &mut frame[(y * WIDTH as usize + x) * 4..][..4];
            let edge = x % CELL == CELL - 1 || y % CELL == CELL - 1;
            let rgba = match (alive, edge) {
                (true, false) => [
                    80,
                    200u8.wrapping_sub(hue / 4),
                    120u8.wrapping_add(hue / 2),
                    255,
                ],
                (true, true) => [30, 90, 60, 255],
                (false, _) => [12, 14, 18, 255],
            };
            px.copy_from_slice(&rgba);
        }
    }
}

fn main(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let timer = Timer::open(env, "timer")?;
    let display = Display::open(env, "display")?;
    let generations: u64 = env.argv.get(1).and_then(|g| g.parse().ok()).unwrap_or(300);
    display.resize(WIDTH, HEIGHT)?;
    console.write_line(&format!(
        "display: Life on a {COLS}x{ROWS} torus, drawn {WIDTH}x{HEIGHT}, {generations} generations"
    ))?;
    let mut cells = seed();
    let mut frame = vec![0u8; (WIDTH * HEIGHT * 4) as usize];
    let start = timer.now_ns()?;
    let mut shown = 0;
    let mut closed = false;
    while shown < generations {
        render(&cells, shown, &mut frame);
        display.draw(WIDTH, HEIGHT, &frame)?;
        match display.present() {
            Ok(_) => shown += 1,
            Err(e) if e.cap_error() == Some(CapError::PeerGone) => {
                closed = true;
                break;
            }
            Err(e) => return Err(e),
        }
        cells = step(&cells);
        match display.next_event(0)? {
            Event::Closed => {
                closed = true;
                break;
            }
            Event::Resized { width, height } => console.write_line(&format!(
                "display: the page's pane is now {width}x{height}; the display stays {WIDTH}x{HEIGHT}"
            ))?,
            Event::None => {}
        }
    }
    let seconds = (timer.now_ns()? - start) as f64 / 1e9;
    let alive = cells.iter().filter(|c| **c).count();
    if closed {
        console.write_line(&format!(
            "display: the page closed the display after {shown} frames; stopping"
        ))?;
    }
    console.write_line(&format!(
        "display: {shown} frames of {WIDTH}x{HEIGHT} presented in {seconds:.2} s ({:.1} frames/s), {alive} cells alive",
        shown as f64 / seconds.max(1e-9)
    ))?;

    let clipboard = Clipboard::open(env, "clipboard")?;
    let text = format!("capOS Life: {shown} generations, {alive} cells alive");
    match clipboard.write(&text).and_then(|()| clipboard.read()) {
        Ok(read) if read == text => console.write_line(&format!(
            "display: clipboard written and read back: {read:?}"
        ))?,
        Ok(read) => console.write_line(&format!(
            "display: the clipboard holds {read:?} (someone else wrote it)"
        ))?,
        Err(Error::Cap { error, message }) => console.write_line(&format!(
            "display: clipboard refused ({error:?}): {message}"
        ))?,
        Err(e) => return Err(e),
    }
    Ok(())
}
