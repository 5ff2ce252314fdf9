//! The real binary in tmux, on a `pitwall sim` fleet (test-small: alpha,
//! beta) so kubectl can delete the pod a forward reaches. Part of the
//! `sessions` test binary (one binary for the capability).

use super::{common, free_port};
use serde_json::Value;
use std::time::Duration;

/// `pitwall sim` until it says `ready`; killed (by its pid) when dropped.
struct Sim(std::process::Child);

impl Sim {
    fn start(kubeconfig: &std::path::Path) -> Sim {
        use std::io::BufRead;
        let scenario = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets/scenarios/test-small.toml");
        let mut child = std::process::Command::new(common::BIN)
            .arg("sim")
            .arg("--scenario")
            .arg(&scenario)
            .arg("--kubeconfig-out")
            .arg(kubeconfig)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("pitwall sim: {e}"));
        let out = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let ready = std::io::BufReader::new(out)
            .lines()
            .map_while(Result::ok)
            .any(|l| l == "ready");
        assert!(ready, "the simulator did not start");
        Sim(child)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn kubectl(kc: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kc)
        .arg("--context")
        .arg("beta")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("kubectl: {e}"));
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn curl(port: u16) -> Option<String> {
    let out = std::process::Command::new("curl")
        .args(["-s", "--max-time", "5"])
        .arg(format!("http://127.0.0.1:{port}/"))
        .output()
        .ok()?;
    let body = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !body.is_empty()).then_some(body)
}

fn listening(port: u16) -> bool {
    let out = std::process::Command::new("ss")
        .arg("-ltn")
        .output()
        .unwrap_or_else(|e| panic!("ss: {e}"));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.contains(&format!(":{port} ")))
}

fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + common::PATIENCE;
    while !cond() {
        assert!(std::time::Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn exec_and_a_forward_in_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let kc = dir.path().join("kubeconfig");
    let _sim = Sim::start(&kc);
    let mut pod = String::new();
    until("a running web pod in beta", || {
        pod = kubectl(
            &kc,
            &[
                "get",
                "pods",
                "-n",
                "shop",
                "-l",
                "app=web",
                "--field-selector=status.phase=Running",
                "-o",
                "jsonpath={.items[0].metadata.name}",
            ],
        );
        !pod.is_empty()
    });

    let t = common::Tmux::start(120, 40, &[]);
    t.run(&format!("{} --kubeconfig {}", common::BIN, kc.display()));
    t.wait_for("beta live", |s| s.contains("[beta live"));
    // the pods pane, narrowed to the pod: it is the selected row
    t.keys(&["o"]);
    t.type_text(&format!("/{pod}"));
    t.keys(&["Enter"]);
    t.wait_for("the pod alone in the table", |s| s.contains("Pods 1/"));

    // e: the picker names the pod; Enter: a shell on this terminal
    t.keys(&["e"]);
    t.wait_for("the exec picker, allowed", |s| {
        s.contains("┌ exec") && s.contains(&pod) && s.contains("allowed")
    });
    t.keys(&["Enter"]);
    let prompt = format!("root@{pod}:/#");
    t.wait_for("the container's prompt", |s| s.contains(&prompt));
    assert_eq!(t.pane_flag("alternate_on"), "0");
    t.run("hostname");
    t.wait_for("hostname", |s| s.lines().any(|l| l.trim() == pod));
    t.run("stty size");
    t.wait_for("the terminal's size", |s| {
        s.lines().any(|l| l.trim() == "40 120")
    });
    t.tmux(&["resize-window", "-t", "0", "-x", "100", "-y", "30"]);
    t.run("stty size");
    t.wait_for("the new size", |s| s.lines().any(|l| l.trim() == "30 100"));
    t.run("exit 3");
    t.wait_for("the cockpit back, saying exit code 3", |s| {
        s.contains("exit code 3") && s.contains("┌ Pods")
    });
    assert_eq!(t.pane_flag("alternate_on"), "1");

    // F: a forward to the pod's Deployment on a free local port
    t.keys(&["F"]);
    t.wait_for("the forward dialog, allowed, with the pod's port", |s| {
        s.contains("┌ port-forward") && s.contains("allowed") && s.contains("[8080")
    });
    let local = free_port();
    t.keys(&["Home"]);
    t.type_text(&format!("{local}:"));
    t.keys(&["Enter"]);
    t.wait_for("the forward running", |s| {
        s.contains(&format!("forwarding 127.0.0.1:{local}"))
    });
    let mut first = None;
    until("curl answered through the forward", || {
        first = curl(local);
        first.is_some()
    });
    let first = first.unwrap_or_default();
    assert!(first.starts_with("web-"), "{first}");
    kubectl(
        &kc,
        &["delete", "pod", "-n", "shop", &first, "--wait=false"],
    );
    let mut second = None;
    until("an answer from another pod", || {
        second = curl(local).filter(|b| *b != first);
        second.is_some()
    });
    let second = second.unwrap_or_default();
    assert!(second.starts_with("web-"), "{second}");

    // the pane; x stops it and the port is free
    t.keys(&["f"]);
    t.wait_for("the forwards pane", |s| {
        s.contains("Port-forwards 1 running") && s.contains(&format!("127.0.0.1:{local}"))
    });
    assert!(listening(local));
    t.keys(&["x"]);
    t.wait_for("the forward stopped", |s| {
        s.contains("Port-forwards 0 running")
    });
    until("no listener after stop", || !listening(local));

    // the audit: the exec session and the forward, start and end
    let audit = t.home().join(".local/state/pitwall/audit/audit.jsonl");
    let lines: Vec<Value> = common::wait_for_file(&audit)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    let exec: Vec<&Value> = lines.iter().filter(|l| l["action"] == "exec").collect();
    assert_eq!(exec.len(), 2, "{lines:?}");
    assert_eq!(exec[0]["session"]["phase"], "start");
    assert_eq!(
        exec[0]["parameters"]["command"],
        serde_json::json!(["bash"])
    );
    assert_eq!(exec[0]["parameters"]["tty"], true);
    assert_eq!(exec[1]["session"]["phase"], "end");
    assert_eq!(exec[1]["session"]["exit_code"], 3);
    assert_eq!(exec[1]["object"]["name"], pod.as_str());
    assert_eq!(exec[1]["region"], "beta");
    assert_eq!(exec[1]["result"], "ok");
    // what was typed went in, the prompts and answers came out
    let bytes_in = exec[1]["session"]["bytes_in"].as_u64().unwrap_or(0);
    assert!(bytes_in >= "hostname\rstty size\rstty size\rexit 3\r".len() as u64);
    assert!(exec[1]["session"]["bytes_out"].as_u64().unwrap_or(0) > bytes_in);
    let fwd: Vec<&Value> = lines
        .iter()
        .filter(|l| l["action"] == "port-forward")
        .collect();
    assert_eq!(fwd.len(), 2, "{lines:?}");
    assert_eq!(fwd[1]["session"]["phase"], "end");
    assert_eq!(fwd[1]["object"]["kind"], "Deployment");
    assert_eq!(fwd[1]["object"]["name"], "web");
    assert!(fwd[1]["session"]["bytes_out"].as_u64().unwrap_or(0) > 0);

    // another forward (on the pod that answered last: the first may be the
    // one deleted), then SIGTERM: the cockpit ends and takes it along
    t.keys(&["o"]);
    t.keys(&["Escape"]);
    t.wait_for("the filter cleared", |s| !s.contains(&format!("/{pod}")));
    t.type_text(&format!("/{second}"));
    t.keys(&["Enter"]);
    t.wait_for("the live pod alone in the table", |s| s.contains("Pods 1/"));
    t.keys(&["F"]);
    t.wait_for("the forward dialog again", |s| {
        s.contains("┌ port-forward") && s.contains("allowed") && s.contains("[8080")
    });
    let local = free_port();
    t.keys(&["Home"]);
    t.type_text(&format!("{local}:"));
    t.keys(&["Enter"]);
    t.wait_for("the second forward running", |s| {
        s.contains(&format!("forwarding 127.0.0.1:{local}"))
    });
    assert!(listening(local));
    let pid = common::child_of_shell(&t);
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap_or_else(|e| panic!("kill: {e}"));
    assert!(killed.success());
    t.wait_for_prompt();
    until("no listener after SIGTERM", || !listening(local));
    // `pitwall audit` reads it all back, the forward SIGTERM ended included
    let printed = t.home().join("audit.txt");
    t.run(&format!(
        "{} audit --region beta > {}",
        common::BIN,
        printed.display()
    ));
    t.wait_for_prompt();
    let lines: Vec<Value> = common::wait_for_file(&printed)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    let kinds: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["action"].as_str().unwrap_or_default(),
                l["session"]["phase"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("exec", "start"),
            ("exec", "end"),
            ("port-forward", "start"),
            ("port-forward", "end"),
            ("port-forward", "start"),
            ("port-forward", "end"),
        ]
    );
    assert_eq!(lines[5]["result"], "ok");
    assert_eq!(
        lines[5]["parameters"]["local_address"],
        format!("127.0.0.1:{local}")
    );
    t.assert_terminal_restored();
}
