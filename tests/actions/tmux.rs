//! The real binary in tmux, acting on a cluster: one focused end-to-end
//! run of the scale flow against `pitwall sim`, kubectl as the oracle.

use crate::common::{self, Tmux};
use std::process::Command;

/// The real binary in tmux against `pitwall sim`: `w`, the checkout row of
/// us-east (a production region in the config), `c`, 8, the typed name;
/// kubectl then reads 8 replicas and the toast says so.
#[test]
fn scale_from_the_cockpit_in_tmux_lands_as_kubectl_sees_it() {
    use std::io::BufRead;
    let t = Tmux::start(160, 40, &[]);
    let home = t.home().to_path_buf();
    std::fs::create_dir_all(home.join(".kube")).expect("kube dir");
    let kc = home.join(".kube/config");
    let mut sim = Command::new(common::BIN)
        .args(["sim", "--kubeconfig-out"])
        .arg(&kc)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("pitwall sim starts");
    // stopped whatever happens below
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let out = sim.stdout.take().expect("sim stdout");
    let sim = Stop(sim);
    let ready = std::io::BufReader::new(out)
        .lines()
        .map_while(Result::ok)
        .any(|l| l == "ready");
    assert!(ready, "pitwall sim never said ready");
    let conf = home.join(".config/pitwall");
    std::fs::create_dir_all(&conf).expect("config dir");
    std::fs::write(
        conf.join("config.toml"),
        "[[region]]\nname = \"us-east\"\ncontext = \"us-east\"\nproduction = true\n",
    )
    .expect("config written");
    t.run(common::BIN);
    t.wait_for("us-east live", |s| s.contains("us-east live"));
    t.keys(&["w"]);
    t.keys(&["/"]);
    t.type_text("checkout");
    t.keys(&["Enter"]);
    t.wait_for("the checkout row", |s| {
        s.contains("Workloads (1)") && s.contains("checkout") && s.contains("complete")
    });
    t.keys(&["c"]);
    t.wait_for("the scale input", |s| s.contains("replicas now 10"));
    t.keys(&["BSpace", "BSpace", "BSpace"]);
    t.type_text("8");
    t.keys(&["Enter"]);
    let screen = t.wait_for("the confirm dialog", |s| {
        s.contains("production region: type `checkout` and press Enter")
    });
    for want in [
        "region     us-east",
        "object     Deployment checkout",
        "change     scale: replicas 10 -> 8",
        "warning    autoscaled by checkout",
    ] {
        assert!(screen.contains(want), "{want} not in\n{screen}");
    }
    t.type_text("checkout");
    t.keys(&["Enter"]);
    t.wait_for("the toast", |s| {
        s.contains("done: scale deployment shop/checkout in us-east")
    });
    let got = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&kc)
        .args([
            "--context",
            "us-east",
            "-n",
            "shop",
            "get",
            "deployment",
            "checkout",
        ])
        .args(["-o", "jsonpath={.spec.replicas}"])
        .output()
        .expect("kubectl runs");
    assert_eq!(String::from_utf8_lossy(&got.stdout), "8");
    t.keys(&["q"]);
    t.wait_for_prompt();
    t.assert_terminal_restored();
    drop(sim);
}
