//! The terminal: setup and restore (normal exit, error, panic, signals),
//! suspend/resume, the stderr redirect, and the output filter that keeps a
//! monochrome terminal free of colour escapes.

use crossterm::cursor::{Hide, Show};
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use crossterm::ExecutableCommand;
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use std::fs::File;
use std::io::{self, BufWriter, Stdout, Write};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};

/// Terminal output. With `strip_color` every colour parameter is removed from
/// SGR sequences on the way out: ratatui's crossterm backend resets fg, bg
/// and underline colour at the end of every draw even when no cell has a
/// colour, and NO_COLOR / TERM=dumb must see none of it.
pub struct Output<W: Write> {
    inner: W,
    strip_color: bool,
    /// A partial escape sequence carried between writes.
    pending: Vec<u8>,
    pub bytes_written: u64,
}

/// Escape sequences longer than this are passed through unparsed.
const MAX_SEQ: usize = 64;

impl<W: Write> Output<W> {
    pub fn new(inner: W, strip_color: bool) -> Output<W> {
        Output {
            inner,
            strip_color,
            pending: Vec::new(),
            bytes_written: 0,
        }
    }

    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    fn emit(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.bytes_written += bytes.len() as u64;
        self.inner.write_all(bytes)
    }

    fn finish_sequence(&mut self) -> io::Result<()> {
        let seq = std::mem::take(&mut self.pending);
        if seq.last() == Some(&b'm') && seq.len() >= 3 {
            let params = &seq[2..seq.len() - 1];
            if let Some(kept) = strip_color_params(params) {
                if !kept.is_empty() || params.is_empty() {
                    let mut out = b"\x1b[".to_vec();
                    out.extend_from_slice(kept.as_bytes());
                    out.push(b'm');
                    self.emit(&out)?;
                }
                return Ok(());
            }
        }
        self.emit(&seq)
    }
}

/// The SGR parameters without any that set a colour; `None` if they cannot
/// be parsed (then the sequence is passed on as it is).
fn strip_color_params(params: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(params).ok()?;
    if text.is_empty() {
        return Some(String::new());
    }
    let nums: Vec<u32> = text
        .split([';', ':'])
        .map(|p| p.parse().unwrap_or(0))
        .collect();
    let mut kept = Vec::new();
    let mut i = 0;
    while i < nums.len() {
        let n = nums[i];
        match n {
            38 | 48 | 58 => {
                i += match nums.get(i + 1) {
                    Some(5) => 3,
                    Some(2) => 5,
                    _ => 1,
                };
                continue;
            }
            30..=37 | 39 | 40..=47 | 49 | 59 | 90..=97 | 100..=107 => {}
            _ => kept.push(n.to_string()),
        }
        i += 1;
    }
    Some(kept.join(";"))
}

impl<W: Write> Write for Output<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.strip_color {
            self.emit(buf)?;
            return Ok(buf.len());
        }
        let mut start = 0;
        for (i, &b) in buf.iter().enumerate() {
            if self.pending.is_empty() {
                if b == 0x1b {
                    self.emit(&buf[start..i])?;
                    self.pending.push(b);
                }
                continue;
            }
            self.pending.push(b);
            start = i + 1;
            let len = self.pending.len();
            if len == 2 && b != b'[' {
                let seq = std::mem::take(&mut self.pending);
                self.emit(&seq)?;
            } else if len > 2 && (0x40..=0x7e).contains(&b) {
                self.finish_sequence()?;
            } else if len > MAX_SEQ {
                let seq = std::mem::take(&mut self.pending);
                self.emit(&seq)?;
            }
        }
        if self.pending.is_empty() {
            self.emit(&buf[start..])?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

pub type Backend = CrosstermBackend<Output<BufWriter<Stdout>>>;
pub type Term = Terminal<Backend>;

static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Raw mode, alternate screen, hidden cursor.
pub fn enter() -> io::Result<()> {
    enable_raw_mode()?;
    // from here on `restore` must undo whatever part succeeded
    ACTIVE.store(true, Ordering::SeqCst);
    let mut out = io::stdout();
    out.execute(EnterAlternateScreen)?;
    out.execute(Hide)?;
    Ok(())
}

/// Undo `enter`. Safe to call more than once and from the panic hook.
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut out = io::stdout();
    let _ = out.execute(crossterm::style::ResetColor);
    let _ = out.execute(Show);
    let _ = out.execute(LeaveAlternateScreen);
    let _ = disable_raw_mode();
    let _ = out.flush();
}

pub fn new_terminal(strip_color: bool) -> io::Result<Term> {
    let out = Output::new(
        BufWriter::with_capacity(64 * 1024, io::stdout()),
        strip_color,
    );
    Terminal::new(CrosstermBackend::new(out))
}

/// Restores the terminal before the default panic message is printed, when
/// the panic is on the UI thread (the loop runs in `block_on` on `main`).
/// A panic in a background task is only logged: the task's region reports
/// the failure and the cockpit keeps its screen.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() == Some("main") {
            restore();
            StderrRedirect::restore_global();
        } else {
            tracing::error!("panic in a background task: {info}");
        }
        previous(info);
    }));
}

/// Ctrl-Z: give the terminal back, stop, and take it again on `fg`.
pub fn suspend(term: &mut Term) -> io::Result<()> {
    restore();
    // SAFETY: raise() only sends a signal to this process.
    unsafe {
        libc::raise(libc::SIGTSTP);
    }
    enter()?;
    term.clear()
}

static SAVED_STDERR: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);

/// Points fd 2 at the log file while the TUI runs, so child processes
/// (exec-credential plugins) and stray writes never scribble on the screen.
pub struct StderrRedirect;

impl StderrRedirect {
    pub fn to(file: &File) -> io::Result<StderrRedirect> {
        // SAFETY: plain fd duplication; the saved fd is restored on drop.
        unsafe {
            let saved = libc::dup(2);
            if saved < 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::dup2(file.as_raw_fd(), 2) < 0 {
                let e = io::Error::last_os_error();
                libc::close(saved);
                return Err(e);
            }
            SAVED_STDERR.store(saved, Ordering::SeqCst);
        }
        Ok(StderrRedirect)
    }

    fn restore_global() {
        let saved = SAVED_STDERR.swap(-1, Ordering::SeqCst);
        if saved >= 0 {
            // SAFETY: `saved` is the fd dup'ed in `to`.
            unsafe {
                libc::dup2(saved, 2);
                libc::close(saved);
            }
        }
    }
}

impl Drop for StderrRedirect {
    fn drop(&mut self) {
        StderrRedirect::restore_global();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filtered(chunks: &[&[u8]]) -> Vec<u8> {
        let mut out = Output::new(Vec::new(), true);
        for c in chunks {
            out.write_all(c).unwrap_or_default();
        }
        out.inner
    }

    #[test]
    fn colour_sgr_is_removed_even_across_writes() {
        let got = filtered(&[b"a\x1b[39m\x1b[4", b"9m\x1b[59mb\x1b[1;38;5;196mc\x1b[0m"]);
        assert_eq!(got, b"ab\x1b[1mc\x1b[0m".to_vec());
    }

    #[test]
    fn other_sequences_and_text_pass_unchanged() {
        let input: &[u8] = b"\x1b[2J\x1b[10;5Hhello\x1b[1m\x1b[m\x1b[?25l";
        assert_eq!(filtered(&[input]), input.to_vec());
        let mut plain = Output::new(Vec::new(), false);
        plain.write_all(b"\x1b[38;2;1;2;3mx").unwrap_or_default();
        assert_eq!(plain.inner, b"\x1b[38;2;1;2;3mx".to_vec());
    }

    /// What ratatui's crossterm backend really writes for a coloured frame,
    /// through the filter: text and attributes, no colour at all.
    #[test]
    fn a_coloured_frame_through_the_backend_has_no_colour_sgr() {
        use ratatui::style::{Color, Modifier, Style};
        use ratatui::widgets::Paragraph;
        #[derive(Clone, Default)]
        struct Shared(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                self.0.borrow_mut().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let out = Shared::default();
        let backend = CrosstermBackend::new(Output::new(out.clone(), true));
        let mut term = match Terminal::with_options(
            backend,
            ratatui::TerminalOptions {
                viewport: ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, 20, 2)),
            },
        ) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        let style = Style::default()
            .fg(Color::Red)
            .bg(Color::Rgb(1, 2, 3))
            .underline_color(Color::Indexed(200))
            .add_modifier(Modifier::BOLD);
        let drawn = term.draw(|f| f.render_widget(Paragraph::new("alert").style(style), f.area()));
        assert!(drawn.is_ok());
        let bytes = out.0.borrow().clone();
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("alert"));
        let sgr = regex::Regex::new(r"\x1b\[([0-9;:]*)m").unwrap_or_else(|e| panic!("{e}"));
        let mut saw_bold = false;
        for cap in sgr.captures_iter(&text) {
            for p in cap[1].split([';', ':']).filter(|p| !p.is_empty()) {
                let n: u32 = p.parse().unwrap_or(0);
                assert!(
                    !matches!(n, 30..=39 | 40..=49 | 58 | 59 | 90..=97 | 100..=107),
                    "colour parameter {n} in {:?}",
                    &cap[0]
                );
                saw_bold |= n == 1;
            }
        }
        assert!(saw_bold, "attributes still pass: {text:?}");
    }
}
