//! End-to-end for the incident panes: the real binary running the demo
//! fleet in tmux, read the way a person reads the screen. The demo story
//! (checkout readiness failing in cn-north at +30 s, a crash-looping search
//! rollout in us-east at +90 s) runs three times faster here. Conditions are
//! waited for with a generous bound; nothing asserts on durations.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_pitwall");
const PROMPT: &str = "e2e$ ";
const PATIENCE: Duration = Duration::from_secs(120);

struct Tmux {
    socket: String,
    _home: tempfile::TempDir,
}

impl Tmux {
    fn start(width: u16, height: u16) -> Tmux {
        let home = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let socket = format!("pitwall-incident-e2e-{}", std::process::id());
        let h = home.path().display().to_string();
        let (w, hh) = (width.to_string(), height.to_string());
        let mut args = vec![
            "-L",
            &socket,
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            &w,
            "-y",
            &hh,
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
        for v in [
            format!("HOME={h}"),
            format!("XDG_CONFIG_HOME={h}/.config"),
            format!("XDG_STATE_HOME={h}/.local/state"),
            format!("PS1={PROMPT}"),
        ] {
            args.push("-e".into());
            args.push(v);
        }
        args.extend(["bash", "--norc", "--noprofile"].map(String::from));
        let out = Command::new("tmux")
            .args(&args)
            .output()
            .unwrap_or_else(|e| panic!("run tmux: {e}"));
        assert!(
            out.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let t = Tmux {
            socket,
            _home: home,
        };
        t.wait_for("the shell prompt", |s| s.contains(PROMPT.trim_end()));
        t
    }

    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("run tmux: {e}"))
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "0"];
        args.extend_from_slice(keys);
        assert!(self.tmux(&args).status.success(), "send-keys {keys:?}");
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "0"]).stdout).into_owned()
    }

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
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

/// The triage pane's lines (between its top and bottom border).
fn triage_lines(screen: &str) -> Vec<&str> {
    screen
        .lines()
        .skip_while(|l| !l.contains("┌ Triage"))
        .skip(1)
        .take_while(|l| !l.starts_with('└'))
        .collect()
}

#[test]
fn the_demo_story_shows_in_triage_and_enter_lands_on_the_pods() {
    let t = Tmux::start(160, 48);
    t.keys(&["-l", &format!("{BIN} demo --time-scale 3")]);
    t.keys(&["Enter"]);

    // the scripted incidents appear in triage, the crash loop on top
    let screen = t.wait_for("both scripted incidents in triage", |s| {
        let lines = triage_lines(s);
        lines
            .iter()
            .any(|l| l.contains("cn-north") && l.contains("shop/checkout"))
            && lines
                .first()
                .is_some_and(|l| l.contains("us-east") && l.contains("crash loop"))
    });
    assert!(screen.contains("Probe failures"), "{screen}");
    assert!(
        screen.contains("HTTP probe failed with statuscode: 503"),
        "{screen}"
    );

    // focus triage, go to the top item (the crash loop) and press Enter
    t.keys(&["t"]);
    t.keys(&["Home"]);
    t.keys(&["Enter"]);
    let pods = t.wait_for("the pods of search in us-east", |s| {
        s.contains("deployment:search") && s.contains("region:us-east")
    });
    let rows: Vec<&str> = pods
        .lines()
        .skip_while(|l| !l.contains("┌ Pods"))
        .skip(2)
        .take_while(|l| !l.starts_with('└'))
        .filter(|l| l.contains("us-east"))
        .collect();
    assert!(!rows.is_empty(), "{pods}");
    assert!(rows.iter().all(|l| l.contains("search-")), "{pods}");

    t.keys(&["q"]);
    t.wait_for("the shell prompt after exit", |s| {
        s.lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .is_some_and(|l| l.trim_end() == PROMPT.trim_end())
    });
}
