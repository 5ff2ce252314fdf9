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
