//! End-to-end: the real binary in a real terminal (tmux), read the way a
//! person reads the screen. Each test gets its own tmux server, a shell with
//! an empty HOME, and waits for what it expects with a generous bound (never
//! asserting on how long anything took).

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_pitwall");
const PROMPT: &str = "e2e$ ";
/// Upper bound for anything to show up; only reached when something is broken.
const PATIENCE: Duration = Duration::from_secs(90);
const DEMO_REGIONS: [&str; 4] = ["pre-release", "cn-north", "us-east", "ap-southeast"];

static SERIAL: AtomicUsize = AtomicUsize::new(0);

struct Tmux {
    socket: String,
    home: tempfile::TempDir,
}

impl Tmux {
    /// A shell in a `width`x`height` terminal with an empty HOME and `env`.
    fn start(width: u16, height: u16, env: &[(&str, &str)]) -> Tmux {
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

    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux")
    }

    fn home(&self) -> &Path {
        self.home.path()
    }

    /// Keys in tmux syntax (`Enter`, `Escape`, `C-c`, `q`).
    fn keys(&self, keys: &[&str]) {
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
    fn type_text(&self, text: &str) {
        let out = self.tmux(&["send-keys", "-t", "0", "-l", text]);
        assert!(
            out.status.success(),
            "send-keys: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn run(&self, command_line: &str) {
        self.type_text(command_line);
        self.keys(&["Enter"]);
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "0"]).stdout).into_owned()
    }

    /// A tmux format value of the pane, e.g. `alternate_on`, `cursor_flag`.
    fn pane_flag(&self, format: &str) -> String {
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
    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
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
    fn wait_for_prompt(&self) -> String {
        self.wait_for("the shell prompt after exit", |s| {
            s.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .is_some_and(|l| l.trim_end() == PROMPT.trim_end())
        })
    }

    /// Asserts the terminal is back to a usable state: main screen, cursor
    /// shown, echo and canonical mode on.
    fn assert_terminal_restored(&self) {
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

fn wait_for_file(path: &Path) -> String {
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

fn demo_command() -> String {
    format!("{BIN} demo")
}

/// The inside of the Pods pane's box (the triage and probes panes beside
/// it also mention regions and `x/y`), or the whole screen without one.
fn pods_pane(screen: &str) -> String {
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
fn pod_rows(screen: &str) -> Vec<String> {
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

fn all_regions_visible(screen: &str) -> bool {
    DEMO_REGIONS.iter().all(|r| screen.contains(r))
}

#[test]
fn demo_at_120x40_shows_every_region_filters_helps_and_quits_cleanly() {
    let t = Tmux::start(120, 40, &[]);
    t.run(&demo_command());
    let screen = t.wait_for("pods from all four regions", |s| {
        all_regions_visible(s) && pod_rows(s).len() >= 10
    });
    assert_eq!(
        t.pane_flag("alternate_on"),
        "1",
        "the cockpit runs on the alternate screen"
    );
    assert!(
        pod_rows(&screen).iter().any(|l| !l.contains("checkout")),
        "expected pods of several workloads before filtering:\n{screen}"
    );

    // `/` opens the filter; typing narrows the table to matching pods.
    t.keys(&["/"]);
    t.type_text("checkout");
    let filtered = t.wait_for("only checkout pods", |s| {
        let rows = pod_rows(s);
        !rows.is_empty() && rows.iter().all(|l| l.contains("checkout"))
    });
    assert!(filtered.contains("checkout"));
    t.keys(&["Enter"]);
    t.keys(&["Escape"]);
    t.wait_for("the filter cleared", |s| {
        pod_rows(s).iter().any(|l| !l.contains("checkout"))
    });

    // `?` shows help generated from the keymap.
    t.keys(&["?"]);
    let help = t.wait_for("the help overlay", |s| s.contains("Quit pitwall"));
    assert!(help.contains("help") || help.contains("Help"), "{help}");
    t.keys(&["Escape"]);
    t.wait_for("help closed", |s| !s.contains("Quit pitwall"));

    t.keys(&["q"]);
    t.wait_for_prompt();
    t.assert_terminal_restored();
}

#[test]
fn demo_at_80x24_is_usable() {
    let t = Tmux::start(80, 24, &[]);
    t.run(&demo_command());
    let screen = t.wait_for("pod rows at 80x24", |s| {
        pod_rows(s).len() >= 5 || s.contains("checkout")
    });
    for line in screen.lines() {
        assert!(
            line.chars().count() <= 80,
            "line wider than the terminal: {line:?}"
        );
    }
    t.keys(&["?"]);
    t.wait_for("the help overlay", |s| s.contains("Quit pitwall"));
    t.keys(&["Escape"]);
    t.wait_for("help closed", |s| !s.contains("Quit pitwall"));
    t.keys(&["q"]);
    t.wait_for_prompt();
    t.assert_terminal_restored();
}

/// Every SGR sequence in `bytes` that sets a colour (foreground, background,
/// underline colour, or their defaults).
fn colour_sequences(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut found = Vec::new();
    let mut rest = &*text;
    while let Some(at) = rest.find("\x1b[") {
        rest = &rest[at + 2..];
        let end = rest
            .find(|c: char| ('\u{40}'..='\u{7e}').contains(&c))
            .unwrap_or(rest.len());
        let (params, tail) = rest.split_at(end);
        if tail.starts_with('m') {
            let is_colour = params
                .split([';', ':'])
                .filter_map(|p| p.parse::<u32>().ok())
                .any(|p| matches!(p, 30..=39 | 40..=49 | 58 | 59 | 90..=97 | 100..=107));
            if is_colour {
                found.push(format!("ESC[{params}m"));
            }
        }
        rest = tail;
    }
    found
}

#[test]
fn no_color_writes_no_colour_escapes() {
    let t = Tmux::start(120, 40, &[("NO_COLOR", "1")]);
    let raw = t.home().join("output.bin");
    let pipe = t.tmux(&[
        "pipe-pane",
        "-o",
        "-t",
        "0",
        &format!("cat >> {}", raw.display()),
    ]);
    assert!(pipe.status.success());
    t.run(&demo_command());
    t.wait_for("pods from all four regions", |s| {
        all_regions_visible(s) && pod_rows(s).len() >= 10
    });
    t.keys(&["j", "j", "?"]);
    t.wait_for("the help overlay", |s| s.contains("Quit pitwall"));
    t.keys(&["Escape"]);
    t.wait_for("help closed", |s| !s.contains("Quit pitwall"));
    t.keys(&["q"]);
    t.wait_for_prompt();
    let bytes = std::fs::read(&raw).expect("pipe-pane output");
    assert!(
        bytes.len() > 1000,
        "expected the cockpit's output to be recorded"
    );
    let colours = colour_sequences(&bytes);
    assert!(
        colours.is_empty(),
        "colour escapes written with NO_COLOR: {:?}",
        &colours[..colours.len().min(10)]
    );
}

#[test]
fn sigterm_restores_the_terminal() {
    let t = Tmux::start(100, 30, &[]);
    t.run(&demo_command());
    t.wait_for("pods on screen", |s| pod_rows(s).len() >= 5);
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
    let kill = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(kill.success());
    t.wait_for_prompt();
    t.assert_terminal_restored();
}

#[test]
fn no_regions_and_no_kubeconfig_suggests_the_demo() {
    let home = tempfile::tempdir().expect("temp dir");
    let out = Command::new(BIN)
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("KUBECONFIG", home.path().join("missing-kubeconfig"))
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .output()
        .expect("run pitwall");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("pitwall demo"), "stderr: {stderr}");
    assert!(
        out.stdout.is_empty(),
        "nothing should be drawn: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
}
