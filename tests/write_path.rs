//! The write path against the simulator over real HTTPS: a change lands in
//! the cluster and in the audit log, RBAC answers come from the server's own
//! SelfSubjectAccessReview, a refusal changes nothing, and a failure carries
//! the server's words.

use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use pitwall::write::{
    self, audit, Access, Audit, ClientLookup, ObjectRef, Params, Permission, ReadClient, Refusal,
    RegionPolicy, Writer,
};
use pitwall_sim::{Fleet, Scenario};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

fn small() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios/test-small.toml");
    Scenario::load(&path).expect("test scenario loads")
}

async fn client(fleet: &Fleet, ctx: &str) -> kube::Client {
    let kc = kube::config::Kubeconfig::from_yaml(&fleet.kubeconfig_yaml()).expect("kubeconfig");
    let opts = kube::config::KubeConfigOptions {
        context: Some(ctx.into()),
        ..Default::default()
    };
    let mut cfg = kube::Config::from_custom_kubeconfig(kc, &opts)
        .await
        .expect("config");
    cfg.default_retry = false;
    kube::Client::try_from(cfg).expect("client")
}

struct Env {
    fleet: Fleet,
    clients: Vec<kube::Client>,
    dir: tempfile::TempDir,
}

impl Env {
    async fn start() -> Env {
        let fleet = Fleet::start(small(), None).await.expect("fleet starts");
        let mut clients = Vec::new();
        for r in fleet.regions() {
            clients.push(client(&fleet, &r.context).await);
        }
        Env {
            fleet,
            clients,
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// Every region of the fleet; `beta` is production.
    fn writer(&self, read_only: bool) -> Writer {
        let regions = self
            .fleet
            .regions()
            .iter()
            .map(|r| RegionPolicy {
                name: r.name.clone(),
                context: r.context.clone(),
                production: r.name == "beta",
                read_only: false,
            })
            .collect();
        let handles: Vec<ReadClient> = self.clients.iter().cloned().map(ReadClient::new).collect();
        let clients: ClientLookup = Arc::new(move |r| handles.get(r).cloned());
        let audit = Audit::open(&self.dir.path().join("audit")).expect("audit");
        Writer::new(regions, read_only, clients, audit)
    }

    fn region(&self, name: &str) -> usize {
        self.fleet
            .regions()
            .iter()
            .position(|r| r.name == name)
            .expect("region")
    }

    async fn replicas(&self, region: &str, name: &str) -> i32 {
        let api: Api<Deployment> =
            Api::namespaced(self.clients[self.region(region)].clone(), "shop");
        let d = api.get(name).await.expect("deployment");
        d.spec.and_then(|s| s.replicas).unwrap_or(-1)
    }

    fn audit_lines(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("audit").join(audit::FILE))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmed_scale_reaches_the_cluster_and_the_audit_log() {
    let env = Env::start().await;
    let beta = env.region("beta");
    assert_eq!(env.replicas("beta", "web").await, 3);

    // read-only: nothing changes, nothing is audited
    let w = env.writer(true);
    let c = w
        .prepare(
            beta,
            ObjectRef::deployment("shop", "web"),
            Params::Scale { from: 3, to: 5 },
        )
        .expect("prepare");
    assert_eq!(
        write::send(&w, c.confirm("web")).await,
        Err(Refusal::ReadOnly { region: None })
    );
    // production: a wrong name changes nothing
    let w = env.writer(false);
    let c = w
        .prepare(
            beta,
            ObjectRef::deployment("shop", "web"),
            Params::Scale { from: 3, to: 5 },
        )
        .expect("prepare");
    assert!(c.typed_name_required());
    assert!(matches!(
        write::send(&w, c.clone().confirm("api")).await,
        Err(Refusal::NotConfirmed(_))
    ));
    assert_eq!(env.replicas("beta", "web").await, 3);
    assert!(env.audit_lines().is_empty());

    let out = write::send(&w, c.confirm("web")).await.expect("sent");
    assert_eq!(
        out.sentence,
        format!(
            "scale deployment shop/web in beta (context {}): replicas 3 -> 5",
            env.fleet.regions()[beta].context
        )
    );
    assert_eq!(out.audit, Ok(()));
    assert_eq!(env.replicas("beta", "web").await, 5);
    let lines = env.audit_lines();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["region"], "beta");
    assert_eq!(lines[0]["verb"], "patch");
    assert_eq!(lines[0]["object"]["name"], "web");
    assert_eq!(lines[0]["parameters"]["replicas"]["to"], 5);
    assert_eq!(lines[0]["result"], "ok");
    // no credential of the region in the log
    let text =
        std::fs::read_to_string(env.dir.path().join("audit").join(audit::FILE)).unwrap_or_default();
    for r in env.fleet.regions() {
        assert!(
            !text.contains(&r.token),
            "the token of {} is in the audit log",
            r.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rbac_answers_come_from_the_servers_access_review() {
    let env = Env::start().await;
    let w = env.writer(false);
    let (alpha, beta) = (env.region("alpha"), env.region("beta"));
    let denied = write::allowed(&w, alpha, &Permission::exec("shop")).await;
    assert_eq!(
        denied,
        Access::Denied(
            "RBAC: not allowed to create pods/exec in namespace shop (denied by the scenario's rules)"
                .into()
        )
    );
    assert_eq!(
        write::allowed(&w, beta, &Permission::exec("shop")).await,
        Access::Allowed
    );
    assert_eq!(
        write::allowed(&w, alpha, &Permission::port_forward("shop")).await,
        Access::Allowed
    );
    // the same rules kubectl sees
    let c = w
        .prepare(alpha, ObjectRef::deployment("shop", "api"), Params::Pause)
        .expect("prepare");
    assert!(write::send(&w, c.confirm("")).await.is_ok());
    let api: Api<Deployment> = Api::namespaced(env.clients[alpha].clone(), "shop");
    let d = api.get("api").await.expect("deployment");
    assert_eq!(d.spec.and_then(|s| s.paused), Some(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_change_says_what_the_server_said() {
    let env = Env::start().await;
    let w = env.writer(false);
    let alpha = env.region("alpha");
    let c = w
        .prepare(
            alpha,
            ObjectRef::deployment("shop", "nope"),
            Params::Scale { from: 1, to: 2 },
        )
        .expect("prepare");
    let r = write::send(&w, c.confirm("")).await;
    let Err(Refusal::Failed { code, message }) = r else {
        panic!("{r:?}")
    };
    assert_eq!(code, Some(404));
    // verbatim: what the same server says to kube's own typed API
    let api: Api<Deployment> = Api::namespaced(env.clients[alpha].clone(), "shop");
    let said = match api.get("nope").await {
        Err(kube::Error::Api(s)) => s.message,
        other => panic!("{other:?}"),
    };
    assert!(said.contains("\"nope\" not found"), "{said}");
    assert_eq!(message, said);
    let lines = env.audit_lines();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["result"]["failed"], format!("404: {said}"));
}
