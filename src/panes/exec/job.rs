//! The exec session on the user's terminal: raw stdin to the container,
//! its output to the screen, the window size on start and on every
//! SIGWINCH. Runs as a `TerminalJob`, so the loop has already restored the
//! terminal and takes it back after, whatever happens here.
//!
//! Ctrl-C, Ctrl-Z and Ctrl-\ are bytes for the remote TTY (the terminal is
//! raw), as with `kubectl exec -it`. To leave a session that does not end,
//! type Enter then `~.` (as ssh does).

use crate::effects::Env;
use crate::write::audit::AuditResult;
use crate::write::session::{self, ExecRequest, TerminalSize};
use futures::SinkExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

/// Stdin chunks waiting for the session; the reader blocks past this.
const STDIN_QUEUE: usize = 16;
/// How long a stopped stdin reader takes to notice.
const STDIN_POLL_MS: i32 = 50;
/// After the process's status, how long its last output may still take.
const DRAIN: Duration = Duration::from_secs(1);

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The process exited with this code.
    Exit(i32),
    /// The server ended it without an exit code (its message).
    Failed(String),
    /// The connection went away without a status.
    Lost,
    /// The user typed Enter `~.`.
    Left,
}

/// The shells tried when no command is typed: bash, then sh when bash is
/// not there.
pub const SHELLS: [&str; 2] = ["bash", "sh"];

/// Did `bash` fail to start (so `sh` is worth a try)? Only when it ended
/// before printing anything, with 127 or a "not found" from the runtime.
pub fn shell_missing(ended: &Ended, output_seen: bool) -> bool {
    if output_seen {
        return false;
    }
    match ended {
        Ended::Exit(127) => true,
        Ended::Failed(m) => {
            let m = m.to_ascii_lowercase();
            m.contains("not found") || m.contains("no such file")
        }
        _ => false,
    }
}

/// The text on return, and the error for a session that did not run.
pub fn summary(ended: &Ended) -> Result<String, String> {
    match ended {
        Ended::Exit(code) => Ok(format!("exit code {code}")),
        Ended::Left => Ok("left the session (Enter ~.)".into()),
        Ended::Failed(m) => Err(m.clone()),
        Ended::Lost => Err("the connection was lost before the session ended".into()),
    }
}

/// Runs the session: the typed command, or the shell fallback.
pub async fn run(env: Env, req: ExecRequest) -> Result<String, String> {
    let mut input = Stdin::start().map_err(|e| format!("cannot read the terminal: {e}"))?;
    let raw = RawMode::enable();
    let result = attempts(&env, &req, &mut input).await;
    drop(raw);
    // the reader is gone before the cockpit reads the terminal again
    input.stop();
    result
}

async fn attempts(env: &Env, req: &ExecRequest, input: &mut Stdin) -> Result<String, String> {
    let commands: Vec<Vec<String>> = if req.command.is_empty() {
        SHELLS.iter().map(|s| vec![s.to_string()]).collect()
    } else {
        vec![req.command.clone()]
    };
    let last = commands.len() - 1;
    let mut ended = Ended::Lost;
    for (i, command) in commands.into_iter().enumerate() {
        let req = ExecRequest {
            command,
            ..req.clone()
        };
        let mut s = session::exec_session(&env.writer, &req)
            .await
            .map_err(|r| r.to_string())?;
        let (e, output_seen) = pump(&mut s.process, &s.audit, input).await;
        let code = match e {
            Ended::Exit(c) => Some(c),
            _ => None,
        };
        let result = match summary(&e) {
            Ok(_) => AuditResult::Ok,
            Err(why) => AuditResult::Failed(why),
        };
        s.audit.end(code, result);
        ended = e;
        if i == last || !shell_missing(&ended, output_seen) {
            break;
        }
    }
    summary(&ended)
}

/// Moves bytes until the process ends: returns how, and whether any output
/// came.
async fn pump(
    process: &mut kube::api::AttachedProcess,
    audit: &session::SessionAudit,
    input: &mut Stdin,
) -> (Ended, bool) {
    let counters = audit.counters().clone();
    let mut stdin = process.stdin();
    let mut stdout = process.stdout();
    let mut stderr = process.stderr();
    let mut resize = process.terminal_size();
    let Some(status) = process.take_status() else {
        return (Ended::Lost, false);
    };
    tokio::pin!(status);
    let mut winch =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change()).ok();
    if let (Some(tx), Ok((w, h))) = (&mut resize, crossterm::terminal::size()) {
        let _ = tx
            .send(TerminalSize {
                width: w,
                height: h,
            })
            .await;
    }
    let mut screen = tokio::io::stdout();
    let mut out_buf = vec![0u8; 16 * 1024];
    let mut err_buf = vec![0u8; 4 * 1024];
    let mut escape = Escape::default();
    let mut seen = false;
    let mut final_status = None;
    loop {
        tokio::select! {
            n = read_some(&mut stdout, &mut out_buf) => match n {
                Some(n) => {
                    seen = true;
                    counters.add_out(n);
                    if screen.write_all(&out_buf[..n]).await.is_err() || screen.flush().await.is_err() {
                        break;
                    }
                }
                None => stdout = None,
            },
            n = read_some(&mut stderr, &mut err_buf) => match n {
                Some(n) => {
                    seen = true;
                    counters.add_out(n);
                    let _ = screen.write_all(&err_buf[..n]).await;
                    let _ = screen.flush().await;
                }
                None => stderr = None,
            },
            chunk = input.rx.recv(), if stdin.is_some() => match chunk {
                Some(bytes) => {
                    let (send, leave) = escape.feed(&bytes);
                    if let Some(w) = &mut stdin {
                        if !send.is_empty() {
                            counters.add_in(send.len());
                            if w.write_all(&send).await.is_err() {
                                stdin = None;
                            }
                        }
                    }
                    if leave {
                        return (Ended::Left, seen);
                    }
                }
                None => stdin = None,
            },
            Some(()) = next_winch(&mut winch) => {
                if let (Some(tx), Ok((w, h))) = (&mut resize, crossterm::terminal::size()) {
                    let _ = tx.send(TerminalSize { width: w, height: h }).await;
                }
            },
            st = &mut status => {
                final_status = Some(st);
                break;
            }
        }
        if stdout.is_none() && stderr.is_none() {
            // output is over: the status follows (or the connection is gone)
            final_status = tokio::time::timeout(DRAIN * 2, &mut status).await.ok();
            break;
        }
    }
    // what the process printed last may still be in the pipe
    let _ = tokio::time::timeout(DRAIN, async {
        if stdout.is_none() {
            return;
        }
        while let Some(n) = read_some(&mut stdout, &mut out_buf).await {
            seen = true;
            counters.add_out(n);
            let _ = screen.write_all(&out_buf[..n]).await;
        }
        let _ = screen.flush().await;
    })
    .await;
    let ended = match final_status.flatten() {
        Some(st) => match session::exit_code(&st) {
            Some(code) => Ended::Exit(code),
            None => Ended::Failed(
                crate::sanitize::sanitize(&st.message.unwrap_or_default()).into_owned(),
            ),
        },
        None => Ended::Lost,
    };
    (ended, seen)
}

async fn read_some<R: tokio::io::AsyncRead + Unpin>(
    r: &mut Option<R>,
    buf: &mut [u8],
) -> Option<usize> {
    match r {
        Some(r) => match r.read(buf).await {
            Ok(0) | Err(_) => None,
            Ok(n) => Some(n),
        },
        None => std::future::pending().await,
    }
}

async fn next_winch(s: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match s {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

/// Enter `~.` leaves the session; `~~` sends one `~`. Everything else
/// passes through unchanged.
#[derive(Debug, Default)]
pub struct Escape {
    /// Not at the start of a line (nothing typed yet counts as a start).
    mid_line: bool,
    /// A `~` at the start of a line is held back.
    tilde: bool,
}

impl Escape {
    /// What to send, and whether to leave.
    pub fn feed(&mut self, bytes: &[u8]) -> (Vec<u8>, bool) {
        let mut out = Vec::with_capacity(bytes.len() + 1);
        for &b in bytes {
            if self.tilde {
                self.tilde = false;
                match b {
                    b'.' => return (out, true),
                    b'~' => {
                        out.push(b'~');
                        self.mid_line = true;
                        continue;
                    }
                    _ => out.push(b'~'),
                }
            } else if b == b'~' && !self.mid_line {
                self.tilde = true;
                continue;
            }
            out.push(b);
            self.mid_line = !matches!(b, b'\r' | b'\n');
        }
        (out, false)
    }
}

/// Raw mode for the session's lifetime (the loop turns it off before the
/// job and back on after; this covers the job itself).
struct RawMode(bool);

impl RawMode {
    fn enable() -> RawMode {
        RawMode(crossterm::terminal::enable_raw_mode().is_ok())
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if self.0 {
            let _ = crossterm::terminal::disable_raw_mode();
        }
    }
}

/// The terminal's input, read on a thread that polls, so it stops within
/// `STDIN_POLL_MS` when the session ends and never steals the cockpit's
/// next key.
struct Stdin {
    rx: mpsc::Receiver<Vec<u8>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Stdin {
    fn start() -> std::io::Result<Stdin> {
        // SAFETY: isatty only inspects the descriptor.
        let fd = if unsafe { libc::isatty(0) } == 1 {
            0
        } else {
            // SAFETY: the path is a valid NUL-terminated string.
            let fd = unsafe { libc::open(c"/dev/tty".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
            if fd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            fd
        };
        let (tx, rx) = mpsc::channel(STDIN_QUEUE);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("exec-stdin".into())
            .spawn(move || read_loop(fd, &flag, &tx))?;
        Ok(Stdin {
            rx,
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the reader and waits for it (at most one poll interval).
    fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.rx.close();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Stdin {
    fn drop(&mut self) {
        // aborted (SIGTERM): the reader sees the flag at its next poll
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn read_loop(fd: i32, stop: &AtomicBool, tx: &mpsc::Sender<Vec<u8>>) {
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the call.
        let ready = unsafe { libc::poll(&mut pfd, 1, STDIN_POLL_MS) };
        if ready <= 0 || stop.load(Ordering::Relaxed) {
            continue;
        }
        if pfd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
            && pfd.revents & libc::POLLIN == 0
        {
            break;
        }
        // SAFETY: the buffer is valid for its length.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 || tx.blocking_send(buf[..n as usize].to_vec()).is_err() {
            break;
        }
    }
    if fd != 0 {
        // SAFETY: the descriptor was opened above and is closed once.
        unsafe { libc::close(fd) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enter_tilde_dot_leaves_and_everything_else_passes() {
        let mut e = Escape::default();
        assert_eq!(e.feed(b"ls\r"), (b"ls\r".to_vec(), false));
        assert_eq!(e.feed(b"~"), (Vec::new(), false));
        assert_eq!(e.feed(b"."), (Vec::new(), true));
        let mut e = Escape::default();
        // a tilde inside a line, ~~ at a line start, and Ctrl-C all go through
        assert_eq!(e.feed(b"a~.\x03"), (b"a~.\x03".to_vec(), false));
        assert_eq!(e.feed(b"\r~~x"), (b"\r~x".to_vec(), false));
        assert_eq!(e.feed(b"\n~a"), (b"\n~a".to_vec(), false));
    }

    #[test]
    fn sh_is_tried_only_when_bash_never_started() {
        assert!(shell_missing(&Ended::Exit(127), false));
        assert!(!shell_missing(&Ended::Exit(127), true));
        assert!(shell_missing(
            &Ended::Failed("exec: \"bash\": executable file not found in $PATH".into()),
            false
        ));
        assert!(!shell_missing(&Ended::Exit(3), false));
        assert!(!shell_missing(&Ended::Lost, false));
        assert_eq!(summary(&Ended::Exit(3)), Ok("exit code 3".into()));
    }
}
