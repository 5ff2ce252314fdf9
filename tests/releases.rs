//! Releases against the in-process simulator (`assets/scenarios/promotion.toml`):
//! a promotion through the cockpit's own keys and confirm dialog, run as a
//! task through the write path, with kubectl confirming the image per
//! region after each wave; the crash-loop scenario halting before its last
//! wave and the undo restoring the previous image; a cockpit restarted
//! mid-promotion showing the plan and resuming it; the timeline's
//! revisions in order with their change-causes; the audit log holding every
//! step. Conditions are waited for with bounded timeouts; nothing asserts
//! on durations. Last, the real binary in tmux runs the promotion demo.
//! (Past 600 lines: one test binary per capability, the proofs share one rig.)

mod common;
#[allow(unused_imports)] // each test binary uses its own part of the harness
mod harness;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use harness::{Cockpit, Harness, Keymap, Msg, Scenario, Styles};
use pitwall::config::stages::{Gates, Stage};
use pitwall::panes::releases::plan::{PlanState, WaveState};
use pitwall::panes::releases::{self, timeline};
use pitwall::state::{Modal, State};
use std::path::{Path, PathBuf};
use std::process::Command;

const NEW: &str = "registry.local/shop/checkout:4.3.0";
const OLD: &str = "registry.local/shop/checkout:4.2.0";
const PROD: [&str; 2] = ["us-east", "ap-southeast"];

fn scenario(crash: bool) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios/promotion.toml");
    let mut text = std::fs::read_to_string(&path).expect("promotion.toml");
    if !crash {
        text = text.replace("crash_images = [", "# crash_images = [");
    }
    Scenario::from_toml(&text, "promotion.toml").expect("scenario")
}

/// Quick gates: a short soak, so a wave passes in seconds.
fn stage(name: &str, regions: &[&str]) -> Stage {
    let mut s = Stage::new(name, regions);
    s.gates = Gates {
        soak_secs: 2,
        rollout_deadline_secs: 120,
        ..Gates::default()
    };
    s
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

struct Rig {
    h: Harness,
    kubeconfig: PathBuf,
    state_dir: tempfile::TempDir,
    stages: Vec<Stage>,
}

impl Rig {
    async fn start(crash: bool, stages: Vec<Stage>) -> Rig {
        let mut h = harness::start_on(scenario(crash), |_| {}, &[]).await;
        let state_dir = tempfile::tempdir().expect("state dir");
        let kubeconfig = state_dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, h.fleet.kubeconfig_yaml()).expect("kubeconfig");
        // us-east and ap-southeast are production: their changes need the name typed
        let (mut regions, _) = pitwall::app::fleet_regions(&h.fleet).expect("regions");
        for r in &mut regions {
            r.production = PROD.contains(&r.name.as_str());
        }
        let (writer, problem) = pitwall::app::writer_for(
            &regions,
            pitwall::config::Access::default(),
            &h.clients,
            Some(h.audit_dir.path().join("audit")),
        );
        assert_eq!(problem, None);
        h.env.writer = writer;
        h.all_live().await;
        let mut rig = Rig {
            h,
            kubeconfig,
            state_dir,
            stages,
        };
        rig.restore();
        rig
    }

    fn promotions(&self) -> PathBuf {
        self.state_dir.path().join("promotions")
    }

    fn restore(&mut self) {
        let dir = Some(self.promotions());
        releases::restore(&mut self.h.cockpit.state, self.stages.clone(), dir);
    }

    fn image(&self, region: &str) -> String {
        let out = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args([
                "--context",
                region,
                "-n",
                "shop",
                "get",
                "deployment",
                "checkout",
            ])
            .args(["-o", "jsonpath={.spec.template.spec.containers[0].image}"])
            .output()
            .expect("kubectl runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn kubectl(&self, region: &str, args: &[&str]) -> String {
        let out = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(["--context", region, "-n", "shop"])
            .args(args)
            .output()
            .expect("kubectl runs");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn jsonpath(&self, region: &str, path: &str) -> String {
        self.kubectl(
            region,
            &[
                "get",
                "deployment",
                "checkout",
                "-o",
                &format!("jsonpath={path}"),
            ],
        )
    }

    fn rollout_history(&self, region: &str) -> String {
        let out = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args([
                "--context",
                region,
                "-n",
                "shop",
                "rollout",
                "history",
                "deployment/checkout",
            ])
            .output()
            .expect("kubectl runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn handle(&mut self, msg: Msg) {
        let effects = self.h.cockpit.handle(msg);
        self.h.run(effects);
    }

    /// `>` on checkout, then the confirm dialog answered by typing the name.
    async fn promote_checkout(&mut self) {
        let effects = releases::focus_workload(&mut self.h.cockpit.state, "shop", "checkout");
        self.h.run(effects);
        self.handle(key(KeyCode::Char('>')));
        self.h
            .until("the promotion's confirm dialog", |s| {
                matches!(s.ui.modal, Some(Modal::Confirm(_)))
            })
            .await;
        self.answer_typed("checkout");
    }

    fn dialog_text(&self) -> String {
        match &self.h.cockpit.state.ui.modal {
            Some(Modal::Confirm(p)) => p.dialog.lines().join("\n"),
            other => panic!("no confirm dialog: {other:?}"),
        }
    }

    fn answer_typed(&mut self, name: &str) {
        for c in name.chars() {
            self.handle(key(KeyCode::Char(c)));
        }
        self.handle(key(KeyCode::Enter));
        assert!(
            self.h.cockpit.state.ui.modal.is_none(),
            "the dialog closes on the right name"
        );
    }

    async fn until_plan(
        &mut self,
        what: &str,
        cond: impl Fn(&pitwall::panes::releases::plan::Plan) -> bool,
    ) {
        self.h
            .until(what, |s: &State| {
                s.releases
                    .plans
                    .get(&("shop".to_string(), "checkout".to_string()))
                    .is_some_and(&cond)
            })
            .await;
    }

    fn audit(&self) -> Vec<serde_json::Value> {
        let filter = pitwall::write::audit_read::Filter {
            region: None,
            since: None,
        };
        pitwall::write::audit_read::read(&self.h.audit_dir.path().join("audit"), &filter)
            .expect("audit")
            .iter()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promotion_goes_wave_by_wave_and_a_restarted_cockpit_resumes_it() {
    let stages = vec![
        stage("pre-release", &["pre-release"]),
        stage("canary", &["cn-north"]),
        stage("production", &PROD),
    ];
    let mut rig = Rig::start(false, stages).await;
    assert_eq!(rig.image("cn-north"), OLD);
    // a canary in cn-north: the new image set by hand and the rollout
    // paused; the promotion resumes it
    rig.kubectl(
        "cn-north",
        &[
            "set",
            "image",
            "deployment/checkout",
            &format!("checkout={NEW}"),
        ],
    );
    rig.kubectl("cn-north", &["rollout", "pause", "deployment/checkout"]);
    rig.promote_checkout_checked().await;
    // wave 1: cn-north has the new image, production not yet
    rig.until_plan("wave 1 passed", |p| p.waves[0].state == WaveState::Passed)
        .await;
    assert_eq!(rig.image("cn-north"), NEW);
    assert_eq!(rig.jsonpath("cn-north", "{.spec.paused}"), "false");
    rig.until_plan("wave 2 under way", |p| {
        p.waves[1].state != WaveState::Pending
    })
    .await;

    // pitwall is killed mid-promotion: its tasks go, the state dir stays
    rig.h.tasks.shutdown(pitwall::tasks::SHUTDOWN_GRACE).await;
    rig.h.tasks = pitwall::tasks::Tasks::new(rig.h.tx.clone(), pitwall::tasks::MAX_TASKS);
    let (regions, _) = pitwall::app::fleet_regions(&rig.h.fleet).expect("regions");
    rig.h.cockpit = Cockpit::new(
        &regions,
        Keymap::default(),
        Styles::default(),
        pitwall::app::wall_now(),
    );
    rig.restore();
    let restored = rig
        .h
        .cockpit
        .state
        .releases
        .plans
        .get(&("shop".to_string(), "checkout".to_string()))
        .cloned()
        .expect("the plan is back after a restart");
    assert_eq!(restored.state, PlanState::Interrupted);
    assert_eq!(restored.waves[0].state, WaveState::Passed);
    assert_eq!(restored.image, NEW);
    let screen = {
        let effects = releases::focus_workload(&mut rig.h.cockpit.state, "shop", "checkout");
        rig.h.run(effects);
        rig.h.screen(120, 40)
    };
    assert!(screen.contains("interrupted"), "{screen}");
    assert!(screen.contains("wave 1 canary passed"), "{screen}");

    // `>` resumes: only the waves not passed are planned and confirmed
    rig.handle(key(KeyCode::Char('>')));
    rig.h
        .until("the resume dialog", |s| {
            matches!(s.ui.modal, Some(Modal::Confirm(_)))
        })
        .await;
    let text = rig.dialog_text();
    assert!(text.contains("wave 1 canary [passed]"), "{text}");
    assert!(text.contains("us-east: 4.2.0 -> 4.3.0"), "{text}");
    rig.answer_typed("checkout");
    rig.until_plan("the promotion done", |p| p.state == PlanState::Done)
        .await;
    for r in ["cn-north", "us-east", "ap-southeast"] {
        assert_eq!(rig.image(r), NEW, "{r}");
    }
    // the new revision says why it exists
    let history = rig.rollout_history("us-east");
    assert!(
        history.contains("pitwall promote 4.3.0 from pre-release"),
        "{history}"
    );
    // the audit log holds every change, each sent once per region
    let changes: Vec<(String, String)> = rig
        .audit()
        .iter()
        .filter(|l| l["verb"] == "patch" && l["result"] == "ok")
        .map(|l| {
            let s = |k: &str| l[k].as_str().unwrap_or("").to_string();
            (s("region"), s("action"))
        })
        .collect();
    for (r, a) in [
        ("cn-north", "rollout resume"),
        ("us-east", "set image"),
        ("ap-southeast", "set image"),
    ] {
        assert!(
            changes.iter().any(|c| c.0 == r && c.1 == a),
            "{r} {a} in {changes:?}"
        );
    }
    assert!(
        !changes
            .iter()
            .any(|c| c.0 == "cn-north" && c.1 == "set image"),
        "{changes:?}"
    );
    // persisted 0600 in a 0700 directory
    use std::os::unix::fs::PermissionsExt;
    let dir = rig.promotions();
    assert_eq!(
        std::fs::metadata(&dir).expect("dir").permissions().mode() & 0o777,
        0o700
    );
    let file = dir.join("shop_checkout.json");
    assert_eq!(
        std::fs::metadata(&file).expect("file").permissions().mode() & 0o777,
        0o600
    );
}

impl Rig {
    /// `promote_checkout`, checking the dialog first: the plan per wave and
    /// the typed name a production region needs.
    async fn promote_checkout_checked(&mut self) {
        let effects = releases::focus_workload(&mut self.h.cockpit.state, "shop", "checkout");
        self.h.run(effects);
        self.handle(key(KeyCode::Char('>')));
        self.h
            .until("the promotion's confirm dialog", |s| {
                matches!(s.ui.modal, Some(Modal::Confirm(_)))
            })
            .await;
        let text = self.dialog_text();
        assert!(text.contains("promote shop/checkout to 4.3.0"), "{text}");
        assert!(text.contains("wave 1 canary"), "{text}");
        assert!(
            text.contains("cn-north: 4.3.0 -> 4.3.0, 4 replicas (paused canary: resume)"),
            "{text}"
        );
        assert!(text.contains("wave 2 production"), "{text}");
        assert!(text.contains("ap-southeast: 4.2.0 -> 4.3.0"), "{text}");
        // a production region: `y` is a letter of the name, not a yes
        self.handle(key(KeyCode::Char('y')));
        assert!(self.h.cockpit.state.ui.modal.is_some());
        self.handle(key(KeyCode::Backspace));
        self.answer_typed("checkout");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_loop_halts_before_the_last_wave_and_undo_restores_the_image() {
    let stages = vec![
        stage("pre-release", &["pre-release"]),
        stage("canary", &["cn-north"]),
        stage("us", &["us-east"]),
        stage("asia", &["ap-southeast"]),
    ];
    let mut rig = Rig::start(true, stages).await;
    rig.promote_checkout().await;
    rig.until_plan("the promotion halted", |p| {
        matches!(p.state, PlanState::Halted(_))
    })
    .await;
    let plan = rig.h.cockpit.state.releases.plan().cloned().expect("plan");
    assert_eq!(plan.waves[0].state, WaveState::Passed);
    assert_eq!(plan.waves[1].state, WaveState::Failed, "{plan:?}");
    assert_eq!(
        plan.waves[2].state,
        WaveState::Pending,
        "the last wave never ran"
    );
    let PlanState::Halted(why) = &plan.state else {
        unreachable!()
    };
    assert!(
        why.contains("us-east") && why.contains("crash loop"),
        "{why}"
    );
    assert_eq!(rig.image("cn-north"), NEW);
    assert_eq!(rig.image("us-east"), NEW);
    assert_eq!(rig.image("ap-southeast"), OLD);

    // undo the failed wave: back to the revision that ran before
    rig.handle(key(KeyCode::Char('u')));
    rig.h
        .until("the undo dialog", |s| {
            matches!(s.ui.modal, Some(Modal::Confirm(_)))
        })
        .await;
    let text = rig.dialog_text();
    assert!(
        text.contains("rollout undo") && text.contains("us-east"),
        "{text}"
    );
    let effects = {
        for c in "checkout".chars() {
            rig.handle(key(KeyCode::Char(c)));
        }
        rig.h.cockpit.handle(key(KeyCode::Enter))
    };
    assert_eq!(effects.len(), 1, "{effects:?}");
    rig.h.run(effects);
    rig.h
        .until("the undo's answer", |s| {
            s.ui.toasts.iter().any(|t| t.text.contains("rollout undo"))
        })
        .await;
    assert_eq!(rig.image("us-east"), OLD);

    // the timeline lists the revisions in order with their change-causes
    rig.h
        .until("the revisions and the audit log read", |s| {
            s.releases
                .revisions
                .get(&1)
                .is_some_and(|r| r.as_ref().is_ok_and(|v| v.len() == 5))
                && s.releases.audit.iter().any(|a| a.action == "rollout undo")
        })
        .await;
    let st = &rig.h.cockpit.state;
    let t = timeline::build(&st.store, &st.releases, &st.region_names, st.now);
    let cn: Vec<&timeline::Marker> = t
        .markers
        .iter()
        .filter(|m| m.region == 1 && m.kind == timeline::Kind::Revision)
        .collect();
    let labels: Vec<&str> = cn.iter().map(|m| m.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "rev 1 4.0.0",
            "rev 2 4.1.0",
            "rev 3 4.1.2",
            "rev 4 4.2.0",
            "rev 5 4.3.0"
        ]
    );
    assert!(cn[0]
        .detail
        .iter()
        .any(|d| d == "change-cause: release 4.0.0: new payment flow"));
    assert!(cn[4]
        .detail
        .iter()
        .any(|d| d.contains("pitwall promote 4.3.0")));
    assert!(cn[4]
        .detail
        .iter()
        .any(|d| d.contains("4.2.0  ->  registry.local/shop/checkout:4.3.0")));
    // and pitwall's own actions on their lanes
    assert!(t
        .markers
        .iter()
        .any(|m| m.kind == timeline::Kind::Audit && m.region == 2 && m.label == "rollout undo"));

    // the audit log holds every step, in order
    let steps: Vec<(String, String, String)> = rig
        .audit()
        .iter()
        .map(|l| {
            let s = |k: &str| l[k].as_str().unwrap_or("").to_string();
            (s("region"), s("action"), l["result"].to_string())
        })
        .collect();
    let want = [
        ("cn-north", "promotion wave started"),
        ("cn-north", "set image"),
        ("cn-north", "promotion wave passed"),
        ("us-east", "promotion wave started"),
        ("us-east", "set image"),
        ("us-east", "promotion wave failed"),
        ("us-east", "rollout undo"),
    ];
    let got: Vec<(&str, &str)> = steps
        .iter()
        .map(|(r, a, _)| (r.as_str(), a.as_str()))
        .collect();
    assert_eq!(got, want, "{steps:?}");
    for (_, action, result) in &steps {
        if action == "promotion wave failed" {
            assert!(result.contains("crash loop"), "{result}");
        } else {
            assert_eq!(result, "\"ok\"", "{action}");
        }
    }
    // kubectl sees the week of revisions, in order, with their change-causes
    let history = rig.rollout_history("cn-north");
    let rows: Vec<(String, String)> = history
        .lines()
        .skip(2)
        .filter_map(|l| {
            let (n, cause) = l.trim().split_once(char::is_whitespace)?;
            Some((n.to_string(), cause.trim().to_string()))
        })
        .collect();
    let numbers: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(numbers, ["1", "2", "3", "4", "5"], "{history}");
    assert_eq!(rows[0].1, "release 4.0.0: new payment flow", "{history}");
    assert_eq!(
        rows[1].1,
        "kubectl set image deployment/checkout checkout=registry.local/shop/checkout:4.1.0"
    );
    assert!(
        rows[4]
            .1
            .starts_with("pitwall promote 4.3.0 from pre-release"),
        "{history}"
    );
}

#[test]
fn the_promotion_demo_in_tmux_halts_on_the_crash_loop_and_quits_cleanly() {
    let t = common::Tmux::start(160, 48, &[]);
    let config = t.home().join(".config/pitwall");
    std::fs::create_dir_all(&config).expect("config dir");
    std::fs::write(
        config.join("config.toml"),
        "[[stage]]\nname = \"pre-release\"\nregions = [\"pre-release\"]\n\n\
         [[stage]]\nname = \"canary\"\nregions = [\"cn-north\"]\nsoak = 2\n\n\
         [[stage]]\nname = \"production\"\nregions = [\"us-east\", \"ap-southeast\"]\nsoak = 2\n",
    )
    .expect("config");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios/promotion.toml");
    t.run(&format!(
        "{} demo --scenario {}",
        common::BIN,
        scenario.display()
    ));
    t.wait_for("every region live", |s| s.matches("live").count() >= 4);
    // the checkout pods, then their timeline, then the promotion
    t.keys(&["o", "/"]);
    t.type_text("checkout");
    t.keys(&["Enter"]);
    t.wait_for("checkout pods", |s| s.contains("checkout-"));
    t.keys(&["T"]);
    t.wait_for("the timeline of checkout", |s| {
        s.contains("Releases · timeline shop/checkout") && s.contains("rev 5 4.3.0")
    });
    t.keys(&[">"]);
    let dialog = t.wait_for("the confirm dialog", |s| {
        s.contains("promote shop/checkout to 4.3.0")
    });
    assert!(dialog.contains("wave 2 production"), "{dialog}");
    // the name typed works whether the demo's regions are production or
    // not (without a typed name, letters other than y/n do nothing)
    t.type_text("checkout");
    t.keys(&["Enter"]);
    let halted = t.wait_for("the promotion halted on us-east", |s| {
        s.contains("halted: wave 2 production: us-east: crash loop")
    });
    assert!(halted.contains("wave 1 canary passed"), "{halted}");
    // the matrix shows where each version runs and the failed wave
    t.keys(&["i"]);
    let matrix = t.wait_for("the matrix", |s| s.contains("Releases · matrix"));
    let row = matrix
        .lines()
        .find(|l| l.contains("shop/checkout"))
        .unwrap_or_else(|| panic!("{matrix}"));
    assert!(row.contains("✗") && row.contains("✓"), "{row}");
    t.keys(&["q"]);
    t.wait_for_prompt();
    t.assert_terminal_restored();
}
