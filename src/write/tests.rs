//! The write path against a recording HTTP server on 127.0.0.1, through the
//! real kube client: what was refused, in which order, and what reached the
//! wire.

use super::test_server::{Script, Seen, Server};
use super::*;
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;

struct Env {
    server: Server,
    dir: tempfile::TempDir,
}

impl Env {
    async fn new(script: Script) -> Env {
        Env {
            server: Server::start(script).await,
            dir: tempfile::tempdir().unwrap_or_else(|e| panic!("{e}")),
        }
    }

    fn audit_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("state").join("audit")
    }

    /// Region 0 `eu` (production), region 1 `lab`.
    fn writer(&self, read_only: bool, eu_read_only: bool) -> Writer {
        let client = self.server.client();
        let clients: ClientLookup = Arc::new(move |_| Some(client.clone()));
        let regions = vec![
            RegionPolicy {
                name: "eu".into(),
                context: "eu-ctx".into(),
                production: true,
                read_only: eu_read_only,
            },
            RegionPolicy {
                name: "lab".into(),
                context: "lab-ctx".into(),
                production: false,
                read_only: false,
            },
        ];
        let audit = Audit::open(&self.audit_dir()).unwrap_or_else(|e| panic!("{e}"));
        Writer::new(regions, read_only, clients, audit)
    }

    fn audit_lines(&self) -> Vec<Value> {
        std::fs::read_to_string(self.audit_dir().join(audit::FILE))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

fn scale(w: &Writer, region: RegionId) -> Confirmation {
    w.prepare(
        region,
        ObjectRef::deployment("shop", "checkout"),
        Params::Scale { from: 6, to: 8 },
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn read_only_refuses_before_anything_is_sent() {
    // everything else would refuse too: RBAC denies, the typed name is wrong
    let env = Env::new(Script {
        allow: false,
        ..Script::default()
    })
    .await;
    let w = env.writer(true, false);
    let r = send(&w, scale(&w, 0).confirm("wrong")).await;
    assert_eq!(r, Err(Refusal::ReadOnly { region: None }));
    let w = env.writer(false, true);
    let r = send(&w, scale(&w, 0).confirm("wrong")).await;
    assert_eq!(
        r,
        Err(Refusal::ReadOnly {
            region: Some("eu".into())
        })
    );
    // the other region of the same writer is not read-only
    assert_eq!(
        allowed(&w, 0, &Permission::exec("shop")).await,
        Access::Denied("region eu is read-only: no changes".into())
    );
    assert!(env.server.seen().is_empty(), "{:?}", env.server.seen());
    assert!(env.audit_lines().is_empty());
}

#[tokio::test]
async fn rbac_is_asked_before_the_confirmation_is_checked() {
    let env = Env::new(Script {
        allow: false,
        ..Script::default()
    })
    .await;
    let w = env.writer(false, false);
    let r = send(&w, scale(&w, 0).confirm("wrong")).await;
    let Err(Refusal::Forbidden(why)) = r else {
        panic!("{r:?}")
    };
    assert_eq!(
        why,
        "RBAC: not allowed to patch deployments.apps/scale in namespace shop (no rule allows it)"
    );
    let seen = env.server.seen();
    assert_eq!(seen.len(), 1, "only the review: {seen:?}");
    assert_eq!(seen[0].method, "POST");
    assert_eq!(
        seen[0].target,
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews?"
    );
    assert_eq!(seen[0].body["kind"], "SelfSubjectAccessReview");
    assert_eq!(
        seen[0].body["spec"]["resourceAttributes"],
        json!({"namespace": "shop", "verb": "patch", "group": "apps",
               "resource": "deployments", "subresource": "scale"})
    );
    assert!(env.audit_lines().is_empty());
}

#[tokio::test]
async fn a_production_change_needs_the_name_typed_exactly() {
    let env = Env::new(Script::default()).await;
    let w = env.writer(false, false);
    let c = scale(&w, 0);
    assert!(c.typed_name_required());
    assert!(c.prompt().contains("type `checkout` to confirm"));
    for typed in ["", "checkou", "Checkout", "checkout "] {
        let r = send(&w, scale(&w, 0).confirm(typed)).await;
        assert!(
            matches!(r, Err(Refusal::NotConfirmed(_))),
            "{typed:?}: {r:?}"
        );
    }
    // one review (then cached), no write
    let seen = env.server.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].target.contains("selfsubjectaccessreviews"));
    // a region that is not production needs no name
    let lab = scale(&w, 1);
    assert!(!lab.typed_name_required());
    assert!(send(&w, lab.confirm("")).await.is_ok());
}

#[tokio::test]
async fn a_confirmed_change_is_sent_then_audited_field_by_field() {
    let env = Env::new(Script::default()).await;
    let w = env.writer(false, false);
    let c = scale(&w, 0);
    assert_eq!(
        c.mutation().sentence(),
        "scale deployment shop/checkout in eu (context eu-ctx): replicas 6 -> 8"
    );
    let out = send(&w, c.confirm("checkout"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.audit, Ok(()));
    let seen = env.server.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    let write = &seen[1];
    assert_eq!(write.method, "PATCH");
    assert_eq!(
        write.target,
        "/apis/apps/v1/namespaces/shop/deployments/checkout/scale?&fieldManager=pitwall"
    );
    assert_eq!(write.content_type, "application/merge-patch+json");
    assert_eq!(write.body, json!({"spec": {"replicas": 8}}));

    let lines = env.audit_lines();
    assert_eq!(lines.len(), 1);
    let a = &lines[0];
    let time = a["time"].as_str().unwrap_or("");
    assert!(time.parse::<jiff::Timestamp>().is_ok(), "{time}");
    assert_eq!(a["user"], audit::local_user());
    assert_eq!(a["host"], audit::host_name());
    assert!(!audit::host_name().is_empty());
    assert_eq!(a["region"], "eu");
    assert_eq!(a["context"], "eu-ctx");
    assert_eq!(a["verb"], "patch");
    assert_eq!(a["action"], "scale");
    assert_eq!(
        a["object"],
        json!({"kind": "Deployment", "group": "apps", "version": "v1",
               "resource": "deployments", "namespace": "shop", "name": "checkout"})
    );
    assert_eq!(a["parameters"], json!({"replicas": {"from": 6, "to": 8}}));
    assert_eq!(a["result"], "ok");
    assert!(a["duration_ms"].is_u64());
    assert!(a.get("session").is_none());

    let dir = env.audit_dir();
    let mode = |p: &std::path::Path| {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    };
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join(audit::FILE)), 0o600);
}

#[tokio::test]
async fn a_refused_request_returns_the_servers_message_and_is_audited() {
    let message = "Operation cannot be fulfilled on deployments.apps \"checkout\": \x1b]52;c;x\x07the object has been modified";
    let env = Env::new(Script {
        write_status: 409,
        write_body: json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
            "message": message, "reason": "Conflict", "code": 409}),
        ..Script::default()
    })
    .await;
    let w = env.writer(false, false);
    let r = send(&w, scale(&w, 1).confirm("")).await;
    let expected = crate::sanitize::sanitize(message).into_owned();
    assert!(!expected.contains('\x1b'));
    assert_eq!(
        r,
        Err(Refusal::Failed {
            code: Some(409),
            message: expected.clone()
        })
    );
    let lines = env.audit_lines();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        lines[0]["result"],
        json!({"failed": format!("409: {expected}")})
    );
    assert_eq!(lines[0]["region"], "lab");
}

#[tokio::test]
async fn each_action_sends_the_request_kubectl_would() {
    let env = Env::new(Script::default()).await;
    let w = env.writer(false, false);
    let deploy = || ObjectRef::deployment("shop", "web");
    let template = json!({"metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "web:1"}]}});
    let cases = [
        (
            deploy(),
            Params::Restart {
                at: "2026-12-03T14:00:00Z".into(),
            },
        ),
        (deploy(), Params::Pause),
        (deploy(), Params::Resume),
        (
            deploy(),
            Params::Undo {
                revision: 2,
                template: template.clone(),
                images: vec!["web:1".into()],
            },
        ),
        (
            ObjectRef::pod("shop", "web-1"),
            Params::Delete {
                grace_period_seconds: Some(5),
            },
        ),
    ];
    for (object, params) in cases {
        let c = w
            .prepare(1, object, params)
            .unwrap_or_else(|e| panic!("{e}"));
        send(&w, c.confirm(""))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let writes: Vec<Seen> = env
        .server
        .seen()
        .into_iter()
        .filter(|s| !s.target.contains("selfsubjectaccessreviews"))
        .collect();
    let path = "/apis/apps/v1/namespaces/shop/deployments/web";
    assert_eq!(writes.len(), 5, "{writes:?}");
    assert_eq!(
        (writes[0].method.as_str(), writes[0].content_type.as_str()),
        ("PATCH", "application/strategic-merge-patch+json")
    );
    assert!(writes[0].target.starts_with(path));
    assert_eq!(
        writes[0].body["spec"]["template"]["metadata"]["annotations"]
            ["kubectl.kubernetes.io/restartedAt"],
        "2026-12-03T14:00:00Z"
    );
    assert_eq!(writes[1].body, json!({"spec": {"paused": true}}));
    assert_eq!(writes[2].body, json!({"spec": {"paused": false}}));
    assert_eq!(writes[3].content_type, "application/json-patch+json");
    assert_eq!(
        writes[3].body,
        json!([{"op": "replace", "path": "/spec/template", "value": template}])
    );
    assert_eq!(writes[4].method, "DELETE");
    assert!(writes[4]
        .target
        .starts_with("/api/v1/namespaces/shop/pods/web-1"));
    assert_eq!(writes[4].body["gracePeriodSeconds"], 5);
    let actions: Vec<Value> = env
        .audit_lines()
        .iter()
        .map(|l| l["action"].clone())
        .collect();
    assert_eq!(
        actions,
        [
            "rollout restart",
            "rollout pause",
            "rollout resume",
            "rollout undo",
            "delete"
        ]
    );
}

#[tokio::test]
async fn set_image_sends_the_patch_kubectl_set_image_sends_and_is_audited() {
    let env = Env::new(Script::default()).await;
    let w = env.writer(false, false);
    let c = w
        .prepare(
            0,
            ObjectRef::deployment("shop", "checkout"),
            Params::SetImage {
                container: "checkout".into(),
                image: "registry.local/shop/checkout:4.3.0".into(),
                from: "registry.local/shop/checkout:4.2.0".into(),
                change_cause: "promote 4.3.0 from pre-release".into(),
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        c.mutation().sentence(),
        "set image deployment shop/checkout in eu (context eu-ctx): checkout image \
         registry.local/shop/checkout:4.2.0 -> registry.local/shop/checkout:4.3.0"
    );
    assert_eq!(c.mutation().permission().verb, "patch");
    assert_eq!(c.mutation().permission().subresource, "");
    // eu is production: the name must be typed
    assert!(matches!(
        send(&w, c.clone().confirm("")).await,
        Err(Refusal::NotConfirmed(_))
    ));
    send(&w, c.confirm("checkout"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let writes: Vec<Seen> = env
        .server
        .seen()
        .into_iter()
        .filter(|s| !s.target.contains("selfsubjectaccessreviews"))
        .collect();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0].method, "PATCH");
    assert_eq!(
        writes[0].content_type,
        "application/strategic-merge-patch+json"
    );
    assert!(writes[0]
        .target
        .starts_with("/apis/apps/v1/namespaces/shop/deployments/checkout?"));
    assert_eq!(
        writes[0].body,
        json!({
            "metadata": {"annotations": {"kubernetes.io/change-cause": "promote 4.3.0 from pre-release"}},
            "spec": {"template": {"spec": {"containers": [
                {"name": "checkout", "image": "registry.local/shop/checkout:4.3.0"}
            ]}}}
        })
    );
    let lines = env.audit_lines();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["action"], "set image");
    assert_eq!(lines[0]["verb"], "patch");
    assert_eq!(
        lines[0]["parameters"]["image"]["to"],
        "registry.local/shop/checkout:4.3.0"
    );
    assert_eq!(lines[0]["result"], "ok");
}

#[tokio::test]
async fn rbac_answers_are_cached_per_permission_and_expire() {
    let env = Env::new(Script::default()).await;
    let w = env.writer(false, false);
    let reviews = || {
        env.server
            .seen()
            .iter()
            .filter(|s| s.target.contains("selfsubjectaccessreviews"))
            .count()
    };
    assert_eq!(
        allowed(&w, 1, &Permission::exec("shop")).await,
        Access::Allowed
    );
    assert_eq!(
        allowed(&w, 1, &Permission::exec("shop")).await,
        Access::Allowed
    );
    assert_eq!(reviews(), 1);
    // another namespace, subresource or region is another question
    allowed(&w, 1, &Permission::exec("data")).await;
    allowed(&w, 1, &Permission::port_forward("shop")).await;
    allowed(&w, 0, &Permission::exec("shop")).await;
    assert_eq!(reviews(), 4);
    assert_eq!(w.rbac().len(), 4);
    // the server changes its mind: seen once the answer expires
    env.server.set(|s| s.allow = false);
    assert_eq!(
        allowed(&w, 1, &Permission::exec("shop")).await,
        Access::Allowed
    );
    let w = env.writer(false, false).with_rbac_ttl(Duration::ZERO);
    let denied = allowed(&w, 1, &Permission::exec("shop")).await;
    assert!(
        matches!(&denied, Access::Denied(r) if r.contains("create pods/exec in namespace shop")),
        "{denied:?}"
    );
    allowed(&w, 1, &Permission::exec("shop")).await;
    assert_eq!(reviews(), 6);
}

#[tokio::test]
async fn the_cache_is_bounded_and_unknown_answers_are_not_kept() {
    let cache = rbac::RbacCache::new(Duration::from_secs(60), 3);
    // nothing listens on this port: every review is Unknown
    let dead = kube::Client::try_from(kube::Config::new(
        "http://127.0.0.1:9"
            .parse()
            .unwrap_or_else(|e| panic!("{e}")),
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let a = cache.check(&dead, 0, &Permission::exec("shop")).await;
    assert!(
        matches!(a, Access::Unknown(ref r) if r.starts_with("permission check failed")),
        "{a:?}"
    );
    assert!(cache.is_empty());
    let env = Env::new(Script::default()).await;
    let live = env.server.client();
    for ns in ["a", "b", "c", "d", "e"] {
        cache.check(live.raw(), 0, &Permission::exec(ns)).await;
    }
    assert_eq!(cache.len(), 3);
    // the newest are kept
    assert_eq!(cache.get(0, &Permission::exec("e")), Some(Access::Allowed));
    assert_eq!(cache.get(0, &Permission::exec("a")), None);
}

#[tokio::test]
async fn a_region_without_a_client_is_refused_after_read_only() {
    let env = Env::new(Script::default()).await;
    let audit = Audit::open(&env.audit_dir()).unwrap_or_else(|e| panic!("{e}"));
    let none: ClientLookup = Arc::new(|_| None);
    let regions = vec![RegionPolicy {
        name: "eu".into(),
        ..RegionPolicy::default()
    }];
    let w = Writer::new(regions.clone(), false, none.clone(), audit);
    let r = send(&w, scale(&w, 0).confirm("")).await;
    assert_eq!(r, Err(Refusal::NotConnected("eu".into())));
    let audit = Audit::open(&env.audit_dir()).unwrap_or_else(|e| panic!("{e}"));
    let w = Writer::new(regions, true, none, audit);
    let r = send(&w, scale(&w, 0).confirm("")).await;
    assert_eq!(r, Err(Refusal::ReadOnly { region: None }));
    // read-only even names no region first
    let unknown = Confirmation {
        mutation: Mutation::new(7, "gone", "gone", ObjectRef::pod("a", "b"), Params::Pause),
        typed_name_required: false,
    };
    assert_eq!(
        send(&w, unknown.confirm("")).await,
        Err(Refusal::ReadOnly { region: None })
    );
    assert_eq!(
        allowed(&w, 7, &Permission::exec("a")).await,
        Access::Denied("read-only mode: no changes".into())
    );
    assert!(matches!(
        w.prepare(3, ObjectRef::pod("a", "b"), Params::Pause),
        Err(Refusal::UnknownRegion(3))
    ));
}

#[tokio::test]
async fn the_read_only_handle_sends_gets_and_refuses_anything_else() {
    let env = Env::new(Script::default()).await;
    let c = env.server.client();
    let req = kube::core::Request::new("/api/v1/namespaces/shop/pods")
        .delete("web-1", &kube::api::DeleteParams::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let r = c.request::<Value>(req).await;
    assert!(
        matches!(&r, Err(kube::Error::Api(s)) if s.code == 405),
        "{r:?}"
    );
    let req = kube::core::Request::new("/api/v1/namespaces/shop/pods")
        .get("web-1", &kube::api::GetParams::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(c.request::<Value>(req).await.is_ok());
    // a GET that would open a session in a container is no read
    let exec = http::Request::get("/api/v1/namespaces/shop/pods/web-1/exec?command=sh&stdin=true")
        .body(Vec::new())
        .unwrap_or_else(|e| panic!("{e}"));
    let r = c.request_text(exec).await;
    assert!(
        matches!(&r, Err(kube::Error::Api(s)) if s.code == 405),
        "{r:?}"
    );
    let seen = env.server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "GET");
}

fn record(params: Value, result: audit::AuditResult) -> audit::Record {
    audit::Record::new(
        "eu",
        "eu-ctx",
        "create",
        "exec",
        ObjectRef::pod("shop", "web-1"),
        params,
        result,
        Duration::from_millis(1500),
    )
}

#[test]
fn the_audit_log_rotates_within_its_bound() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let audit = Audit::with_bounds(dir.path(), 2000, 2).unwrap_or_else(|e| panic!("{e}"));
    for i in 0..100 {
        audit
            .record(record(json!({"i": i}), audit::AuditResult::Ok))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["audit.jsonl", "audit.jsonl.1", "audit.jsonl.2"]);
    let mut last = Vec::new();
    for n in &names {
        let p = dir.path().join(n);
        let len = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
        assert!(len > 0 && len <= 2000, "{n}: {len}");
        last = std::fs::read_to_string(&p)
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect();
        if n == "audit.jsonl" {
            // the newest record is in the current file
            let newest: Value =
                serde_json::from_str(last.last().map_or("", |s| s)).unwrap_or(Value::Null);
            assert_eq!(newest["parameters"]["i"], 99);
        }
    }
    assert!(!last.is_empty());
}

#[test]
fn sessions_are_audited_with_exit_code_and_bytes_and_no_secret_is_written() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let audit = Audit::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let mut end = record(
        json!({"container": "web", "command": ["psql", "password=hunter2", "--token: s3cr3t"],
               "env": {"DB_PASSWORD": "hunter3", "apiToken": "abc"}}),
        audit::AuditResult::Failed(
            "401 Unauthorized: Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln was refused".into(),
        ),
    );
    end.session = Some(audit::Session {
        phase: "end",
        kind: "exec",
        exit_code: Some(3),
        bytes_in: 120,
        bytes_out: 4096,
    });
    audit.record(end).unwrap_or_else(|e| panic!("{e}"));
    let text = std::fs::read_to_string(dir.path().join(audit::FILE)).unwrap_or_default();
    for secret in [
        "hunter2",
        "hunter3",
        "s3cr3t",
        "\"abc\"",
        "eyJhbGciOiJSUzI1NiJ9",
        "c2ln",
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let line: Value = serde_json::from_str(text.trim_end()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        line["session"],
        json!({"phase": "end", "kind": "exec", "exit_code": 3, "bytes_in": 120, "bytes_out": 4096})
    );
    assert_eq!(line["duration_ms"], 1500);
    assert_eq!(line["parameters"]["container"], "web");
    assert_eq!(line["parameters"]["command"][0], "psql");
    assert_eq!(line["parameters"]["command"][1], "password=<redacted>");
    assert_eq!(line["parameters"]["env"]["DB_PASSWORD"], "<redacted>");
    let failed = line["result"]["failed"].as_str().unwrap_or("");
    assert!(
        failed.starts_with("401 Unauthorized") && failed.ends_with("was refused"),
        "{failed}"
    );
}
