//! Shared by the end-to-end tests: the real binary in a real terminal
//! (tmux). Each `Tmux` is its own tmux server running a shell with an empty
//! HOME; conditions are waited for with a generous bound, never timed.
#![allow(dead_code)] // each test binary uses its own part

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_pitwall");
pub const PROMPT: &str = "e2e$ ";
/// Upper bound for anything to show up; only reached when something is broken.
pub const PATIENCE: Duration = Duration::from_secs(120);

static SERIAL: AtomicUsize = AtomicUsize::new(0);

pub struct Tmux {
    socket: String,
    home: tempfile::TempDir,
}

impl Tmux {
    /// A shell in a `width`x`height` terminal with an empty HOME and `env`.
    pub fn start(width: u16, height: u16, env: &[(&str, &str)]) -> Tmux {
        let home = tempfile::tempdir().expect("temp dir");
        let socket = format!(
            "pitwall-e2e-{}-{}",
            std::process::id(),
            SERIAL.fetch_add(1, Ordering::SeqCst)
        );
        let h = home.path().display().to_string();
        let mut vars = vec![
            format!("HOME={h}"),
            format!("XDG_CONFIG_HOME={h}/.config"),
            format!("XDG_STATE_HOME={h}/.local/state"),
            format!("XDG_DATA_HOME={h}/.local/share"),
            format!("KUBECONFIG={h}/.kube/config"),
            format!("PS1={PROMPT}"),
        ];
        vars.extend(env.iter().map(|(k, v)| format!("{k}={v}")));
        let mut args: Vec<String> = vec![
            "-L".into(),
            socket.clone(),
            "-f".into(),
            "/dev/null".into(),
            "new-session".into(),
            "-d".into(),
            "-x".into(),
            width.to_string(),
            "-y".into(),
            height.to_string(),
        ];
        for v in &vars {
            args.push("-e".into());
            args.push(v.clone());
        }
        args.extend(["bash", "--norc", "--noprofile"].map(String::from));
        let out = Command::new("tmux").args(&args).output().expect("run tmux");
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let t = Tmux { socket, home };
        t.wait_for("the shell prompt", |s| s.contains(PROMPT.trim_end()));
        t
    }

    pub fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux")
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// Keys in tmux syntax (`Enter`, `Escape`, `C-c`, `q`).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "0"];
        args.extend_from_slice(keys);
        let out = self.tmux(&args);
        assert!(
            out.status.success(),
            "send-keys: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Literal text, then nothing else.
    pub fn type_text(&self, text: &str) {
        let out = self.tmux(&["send-keys", "-t", "0", "-l", text]);
        assert!(
            out.status.success(),
            "send-keys: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn run(&self, command_line: &str) {
        self.type_text(command_line);
        self.keys(&["Enter"]);
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "0"]).stdout).into_owned()
    }

    /// A tmux format value of the pane, e.g. `alternate_on`, `cursor_flag`.
    pub fn pane_flag(&self, format: &str) -> String {
        let out = self.tmux(&[
            "display-message",
            "-p",
            "-t",
            "0",
            &format!("#{{{format}}}"),
        ]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Polls the screen until `pred` holds; panics with the screen if it never does.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return screen;
            }
            if start.elapsed() > PATIENCE {
                panic!("never saw {what}; the screen was:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// Waits until the shell prompt is back on the last non-empty line.
    pub fn wait_for_prompt(&self) -> String {
        self.wait_for("the shell prompt after exit", |s| {
            s.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .is_some_and(|l| l.trim_end() == PROMPT.trim_end())
        })
    }

    /// Asserts the terminal is back to a usable state: main screen, cursor
    /// shown, echo and canonical mode on.
    pub fn assert_terminal_restored(&self) {
        assert_eq!(
            self.pane_flag("alternate_on"),
            "0",
            "still on the alternate screen"
        );
        assert_eq!(self.pane_flag("cursor_flag"), "1", "cursor left hidden");
        let stty_out = self.home().join("stty.txt");
        self.run(&format!("stty -a > {}", stty_out.display()));
        self.wait_for_prompt();
        let stty = wait_for_file(&stty_out);
        let words: Vec<&str> = stty.split_whitespace().collect();
        for flag in ["echo", "icanon", "isig", "icrnl", "opost"] {
            assert!(words.contains(&flag), "terminal left with -{flag}:\n{stty}");
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

pub fn wait_for_file(path: &Path) -> String {
    let start = Instant::now();
    loop {
        if let Ok(s) = std::fs::read_to_string(path) {
            if !s.is_empty() {
                return s;
            }
        }
        assert!(
            start.elapsed() < PATIENCE,
            "{} never written",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until `path` exists (empty or not).
pub fn wait_for_file_to_exist(path: &Path) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < PATIENCE,
            "{} never created",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

// What the demo shows, as the end-to-end tests read it.

pub const DEMO_REGIONS: [&str; 4] = ["pre-release", "cn-north", "us-east", "ap-southeast"];

pub fn demo_command() -> String {
    format!("{BIN} demo")
}

/// The inside of the Pods pane's box (the triage and probes panes beside
/// it also mention regions and `x/y`), or the whole screen without one.
pub fn pods_pane(screen: &str) -> String {
    let lines: Vec<Vec<char>> = screen.lines().map(|l| l.chars().collect()).collect();
    let found = lines.iter().enumerate().find_map(|(i, l)| {
        let start = (0..l.len()).find(|&c| l[c..].starts_with(&['┌', ' ', 'P', 'o', 'd', 's']))?;
        let end = (start + 1..l.len()).find(|&c| l[c] == '┐')?;
        Some((i, start, end))
    });
    let Some((top, start, end)) = found else {
        return screen.to_string();
    };
    let mut out = String::new();
    for l in &lines[top + 1..] {
        if l.get(start) == Some(&'└') {
            break;
        }
        let inner: String = l.iter().skip(start + 1).take(end - start - 1).collect();
        out.push_str(&inner);
        out.push('\n');
    }
    out
}

/// Lines of the screen that are pod rows of the demo fleet.
pub fn pod_rows(screen: &str) -> Vec<String> {
    pods_pane(screen)
        .lines()
        .filter(|l| {
            DEMO_REGIONS.iter().any(|r| l.contains(r)) && (l.contains("Running") || l.contains('/'))
        })
        .filter(|l| {
            l.split_whitespace().any(|w| {
                w.matches('/').count() == 1 && w.chars().all(|c| c.is_ascii_digit() || c == '/')
            })
        })
        .map(String::from)
        .collect()
}

/// The pid of the program the tmux shell is running.
pub fn child_of_shell(t: &Tmux) -> String {
    let shell = t.pane_flag("pane_pid");
    let children = Command::new("pgrep")
        .args(["-P", &shell])
        .output()
        .expect("pgrep");
    let pid = String::from_utf8_lossy(&children.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    assert!(!pid.is_empty(), "pitwall process not found under the shell");
    pid
}

/// Esc, and wait until the overlay is gone: an Esc and a key sent together
/// read as Alt and that key.
pub fn close_overlay(t: &Tmux) {
    t.keys(&["Escape"]);
    t.wait_for("the overlay closed", |s| !s.contains("(Esc closes)"));
}
