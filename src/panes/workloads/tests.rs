use super::plan::{self, Inputs, Planned, Target, WorkloadKind};
use super::rollout::{self, RolloutState};
use crate::action::Action;
use crate::write::{ObjectRef, Params, Permission};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use serde_json::json;

fn deployment(replicas: i32) -> Target {
    Target::Workload {
        region: 1,
        kind: WorkloadKind::Deployment,
        namespace: "shop".into(),
        name: "web".into(),
        replicas,
    }
}

fn pod() -> Target {
    Target::Pod {
        region: 0,
        namespace: "shop".into(),
        name: "web-1".into(),
        grace_period_seconds: Some(30),
    }
}

#[test]
fn the_replica_input_takes_whole_numbers_in_bounds_only() {
    assert_eq!(plan::parse_replicas(" 8 "), Ok(8));
    assert_eq!(plan::parse_replicas("0"), Ok(0));
    for bad in ["", "-1", "2.5", "eight", "10001"] {
        let e = plan::parse_replicas(bad).expect_err(bad);
        assert!(!e.is_empty(), "{bad}");
    }
}

#[test]
fn each_mutating_action_plans_the_change_it_names() {
    let inputs = Inputs {
        replicas: "5".into(),
        now: "2026-12-03T15:00:00Z".into(),
        undo: Some(Params::Undo {
            revision: 2,
            template: json!({}),
            images: vec!["web:1".into()],
        }),
    };
    let d = ObjectRef::deployment("shop", "web");
    let change = |params| {
        Ok(Planned::Change {
            object: d.clone(),
            params,
        })
    };
    let t = deployment(3);
    assert_eq!(
        plan::plan(Action::Scale, &t, &inputs),
        change(Params::Scale { from: 3, to: 5 })
    );
    assert_eq!(
        plan::plan(Action::RolloutRestart, &t, &inputs),
        change(Params::Restart {
            at: "2026-12-03T15:00:00Z".into()
        })
    );
    assert_eq!(
        plan::plan(Action::RolloutPause, &t, &inputs),
        change(Params::Pause)
    );
    assert_eq!(
        plan::plan(Action::RolloutResume, &t, &inputs),
        change(Params::Resume)
    );
    assert_eq!(
        plan::plan(Action::RolloutUndo, &t, &inputs),
        change(inputs.undo.clone().expect("undo"))
    );
    assert_eq!(
        plan::plan(Action::DeletePod, &pod(), &inputs),
        Ok(Planned::Change {
            object: ObjectRef::pod("shop", "web-1"),
            params: Params::Delete {
                grace_period_seconds: Some(30)
            }
        })
    );
    assert_eq!(
        plan::plan(Action::Exec, &pod(), &inputs),
        Ok(Planned::Session(Permission::exec("shop")))
    );
    assert_eq!(
        plan::plan(Action::PortForward, &t, &inputs),
        Ok(Planned::Session(Permission::port_forward("shop")))
    );
}

#[test]
fn actions_that_do_not_apply_say_why() {
    let inputs = Inputs::default();
    let sts = Target::Workload {
        region: 0,
        kind: WorkloadKind::StatefulSet,
        namespace: "data".into(),
        name: "db".into(),
        replicas: 3,
    };
    assert!(plan::plan(Action::RolloutPause, &sts, &inputs)
        .expect_err("pause")
        .contains("Deployments only"));
    assert!(plan::plan(Action::RolloutUndo, &deployment(1), &inputs)
        .expect_err("undo")
        .contains("choose a revision"));
    assert!(plan::plan(Action::Scale, &pod(), &inputs).is_err());
    assert!(plan::plan(Action::DeletePod, &deployment(1), &inputs).is_err());
    assert!(plan::plan(Action::Exec, &deployment(1), &inputs).is_err());
    // Every other registry action is safe and never planned.
    assert!(plan::plan(Action::Describe, &deployment(1), &inputs).is_err());
    let mutating: Vec<_> = plan::mutating_actions().collect();
    assert_eq!(mutating.len(), 9, "{mutating:?}");
}

fn dep(v: serde_json::Value) -> Deployment {
    serde_json::from_value(v).expect("deployment")
}

#[test]
fn rollout_status_reads_as_kubectl_rollout_status() {
    let base = |status: serde_json::Value, paused: bool| {
        dep(json!({
            "metadata": {"name": "web", "generation": 4},
            "spec": {"replicas": 4, "paused": paused, "selector": {}, "template": {}},
            "status": status,
        }))
    };
    let cases = [
        (
            json!({"observedGeneration": 3}),
            false,
            RolloutState::Observing,
        ),
        (
            json!({"observedGeneration": 4, "replicas": 5, "updatedReplicas": 2}),
            false,
            RolloutState::Progressing {
                updated: 2,
                desired: 4,
            },
        ),
        (
            json!({"observedGeneration": 4, "replicas": 5, "updatedReplicas": 4}),
            false,
            RolloutState::Terminating { old: 1 },
        ),
        (
            json!({"observedGeneration": 4, "replicas": 4, "updatedReplicas": 4, "availableReplicas": 3}),
            false,
            RolloutState::Available {
                available: 3,
                updated: 4,
            },
        ),
        (
            json!({"observedGeneration": 4, "replicas": 4, "updatedReplicas": 4, "availableReplicas": 4}),
            false,
            RolloutState::Complete,
        ),
        (
            json!({"observedGeneration": 4, "updatedReplicas": 1}),
            true,
            RolloutState::Paused,
        ),
        (
            json!({"observedGeneration": 4, "updatedReplicas": 1, "conditions": [
                {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}),
            false,
            RolloutState::Stalled,
        ),
    ];
    for (st, paused, want) in cases {
        assert_eq!(rollout::status(&base(st.clone(), paused)), want, "{st}");
    }
    let p = RolloutState::Progressing {
        updated: 2,
        desired: 4,
    };
    assert_eq!(p.cell(), "2 of 4 updated");
    assert_eq!(
        p.sentence("web"),
        "Waiting for deployment \"web\" rollout to finish: 2 out of 4 new replicas have been updated..."
    );
    assert_eq!(
        RolloutState::Complete.sentence("web"),
        "deployment \"web\" successfully rolled out"
    );
    assert!(RolloutState::Stalled.done() && !p.done());
}

fn rs(owner: &str, revision: &str, image: &str, cause: Option<&str>) -> ReplicaSet {
    let mut ann = json!({"deployment.kubernetes.io/revision": revision});
    if let Some(c) = cause {
        ann["kubernetes.io/change-cause"] = json!(c);
    }
    serde_json::from_value(json!({
        "metadata": {
            "name": format!("web-{revision}"),
            "annotations": ann,
            "creationTimestamp": "2026-12-03T10:00:00Z",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                "uid": owner, "controller": true}],
        },
        "spec": {"selector": {}, "template": {
            "metadata": {"labels": {"app": "web", "pod-template-hash": "abc"}},
            "spec": {"containers": [{"name": "web", "image": image}]},
        }},
    }))
    .expect("replicaset")
}

#[test]
fn revisions_come_from_owned_replica_sets_newest_first_and_undo_drops_the_hash() {
    let sets = [
        rs("u1", "1", "web:1", Some("first")),
        rs("u1", "3", "web:3", None),
        rs("other", "2", "web:x", None),
        rs("u1", "2", "web:2", None),
    ];
    let revs = rollout::revisions("u1", &sets);
    let numbers: Vec<i64> = revs.iter().map(|r| r.number).collect();
    assert_eq!(numbers, vec![3, 2, 1]);
    assert_eq!(revs[2].change_cause.as_deref(), Some("first"));
    assert_eq!(revs[2].images, vec!["web:1".to_string()]);
    assert!(revs[2]
        .created
        .as_deref()
        .is_some_and(|c| c.starts_with("2026-12-03T10:00:00")));
    assert_eq!(
        revs[2].image_diff(&["web:3".into()]),
        vec![("web:3".to_string(), "web:1".to_string())]
    );
    assert!(revs[0].image_diff(&["web:3".into()]).is_empty());
    let Params::Undo {
        revision,
        template,
        images,
    } = revs[2].undo().expect("undo")
    else {
        panic!("not an undo");
    };
    assert_eq!(revision, 1);
    assert_eq!(images, vec!["web:1".to_string()]);
    assert_eq!(template["metadata"]["labels"], json!({"app": "web"}));
    assert_eq!(template["spec"]["containers"][0]["image"], "web:1");
}
