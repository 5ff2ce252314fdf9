//! Headless terminal for benchmarks and tests: a ratatui backend that
//! encodes frames exactly as the real terminal path does (crossterm through
//! `tui::Output`) into a sink, at a fixed size, counting the bytes written
//! and the frames drawn. Nothing here touches a real terminal.

use crate::tui::Output;
use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Where the encoded frames go: counted, then dropped.
#[derive(Clone, Default)]
struct Tally(Arc<AtomicU64>);

impl Write for Tally {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub struct CountingBackend {
    inner: CrosstermBackend<Output<Tally>>,
    tally: Tally,
    size: Size,
    cursor: Position,
    draws: u64,
}

impl CountingBackend {
    /// A `width`x`height` screen; `strip_color` as for a NO_COLOR terminal.
    pub fn new(width: u16, height: u16, strip_color: bool) -> CountingBackend {
        let tally = Tally::default();
        CountingBackend {
            inner: CrosstermBackend::new(Output::new(tally.clone(), strip_color)),
            tally,
            size: Size::new(width, height),
            cursor: Position::ORIGIN,
            draws: 0,
        }
    }

    /// Bytes the terminal would have received so far.
    pub fn bytes(&self) -> u64 {
        self.tally.0.load(Ordering::Relaxed)
    }

    /// Frames drawn so far (one per `Terminal::draw`).
    pub fn draws(&self) -> u64 {
        self.draws
    }

    /// The next `Terminal::autoresize` sees the new size.
    pub fn resize(&mut self, width: u16, height: u16) {
        self.size = Size::new(width, height);
    }
}

impl Backend for CountingBackend {
    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.draws += 1;
        self.inner.draw(content)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        self.inner.hide_cursor()
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        self.inner.show_cursor()
    }

    // crossterm would ask the terminal; remember it instead
    fn get_cursor_position(&mut self) -> io::Result<Position> {
        Ok(self.cursor)
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.cursor = position.into();
        self.inner.set_cursor_position(self.cursor)
    }

    fn clear(&mut self) -> io::Result<()> {
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> io::Result<Size> {
        Ok(self.size)
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        Ok(WindowSize {
            columns_rows: self.size,
            pixels: Size::default(),
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Backend::flush(&mut self.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::widgets::Paragraph;
    use ratatui::Terminal;

    fn term() -> Terminal<CountingBackend> {
        Terminal::new(CountingBackend::new(20, 3, false)).expect("fixed-size terminal")
    }

    #[test]
    fn counts_frames_and_bytes_and_an_unchanged_frame_writes_almost_nothing() {
        let mut t = term();
        t.draw(|f| f.render_widget(Paragraph::new("hello pitwall"), f.area()))
            .expect("draw");
        let first = t.backend().bytes();
        assert!(first >= "hello pitwall".len() as u64, "wrote {first} bytes");
        assert_eq!(t.backend().draws(), 1);

        t.draw(|f| f.render_widget(Paragraph::new("hello pitwall"), f.area()))
            .expect("draw");
        let same = t.backend().bytes() - first;
        assert_eq!(t.backend().draws(), 2);
        // ratatui still resets the colours and hides the cursor
        assert!(same < 32, "an identical frame wrote {same} bytes");

        t.draw(|f| f.render_widget(Paragraph::new("hello pitwalL"), f.area()))
            .expect("draw");
        let one_cell = t.backend().bytes() - first - same;
        assert!(
            one_cell > same && one_cell < same + 32,
            "one changed cell wrote {one_cell} bytes"
        );
    }

    #[test]
    fn reports_its_fixed_size_and_follows_resize() {
        let mut t = term();
        assert_eq!(t.size().expect("size"), Size::new(20, 3));
        t.backend_mut().resize(200, 50);
        t.autoresize().expect("autoresize");
        assert_eq!(t.size().expect("size"), Size::new(200, 50));
    }
}
