//! One port-forward as a long-lived task: a listener on 127.0.0.1 only,
//! each accepted connection its own stream to the pod through the write
//! path (`write::session::Forwarding`), bytes counted both ways. A forward
//! to a workload follows it: when its pod goes (deleted, replaced, not
//! ready) the next connection goes to a ready pod of the workload. A
//! forward to a pod ends when the pod is gone, and its listener with it.
//! Everything (listener, connections) lives in the task's future, so a
//! stop, a quit or SIGTERM releases the port.

use super::service;
use super::state::{ForwardSpec, ForwardTarget, Stats};
use crate::effects::Env;
use crate::msg::Msg;
use crate::panes::exec::SessionMsg;
use crate::tasks::TaskCtx;
use crate::write::audit::AuditResult;
use crate::write::session::{self, Counters, Forwarding};
use crate::write::{ObjectRef, ReadClient, Refusal};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::ListParams;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// Connections one forward serves at once; more are closed at once.
pub const MAX_CONNECTIONS: usize = 64;
/// How often the target is checked (the pod still there, still ready).
pub const CHECK_EVERY: Duration = Duration::from_secs(3);
/// Counters are sent at most this often.
const REPORT_EVERY: Duration = Duration::from_millis(500);

/// What the connections share with the task.
#[derive(Default)]
struct Shared {
    stats: Mutex<Stats>,
}

impl Shared {
    fn update(&self, f: impl FnOnce(&mut Stats)) {
        if let Ok(mut s) = self.stats.lock() {
            f(&mut s);
        }
    }

    fn get(&self, counters: &Counters) -> Stats {
        let mut s = self.stats.lock().map(|s| s.clone()).unwrap_or_default();
        (s.bytes_in, s.bytes_out) = counters.get();
        s
    }
}

/// Binds 127.0.0.1:`port`; a port in use says so in words.
pub async fn bind(port: u16) -> Result<TcpListener, String> {
    TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AddrInUse => format!(
                "127.0.0.1:{port} is in use: choose another local port (LOCAL:REMOTE, e.g. {}:{port})",
                port.saturating_add(10000).max(1024)
            ),
            _ => format!("cannot listen on 127.0.0.1:{port}: {e}"),
        })
}

/// The task: listen, open the session, serve until stopped or the target
/// is gone.
pub async fn run(env: Env, ctx: TaskCtx, spec: ForwardSpec) -> Result<(), String> {
    let listener = bind(spec.local).await?;
    let object = match &spec.target {
        ForwardTarget::Pod(name) => ObjectRef::pod(&spec.namespace, name),
        ForwardTarget::Deployment(name) => ObjectRef::deployment(&spec.namespace, name),
        ForwardTarget::StatefulSet(name) => ObjectRef::stateful_set(&spec.namespace, name),
        ForwardTarget::Service(name) => ObjectRef::service(&spec.namespace, name),
    };
    let params = serde_json::json!({
        "local_address": format!("127.0.0.1:{}", spec.local),
        "remote_port": spec.remote,
    });
    let fwd = session::port_forward(&env.writer, spec.region, object, params)
        .await
        .map_err(|r| r.to_string())?;
    let fwd = Arc::new(fwd);
    let result = serve(&ctx, &spec, listener, fwd.clone()).await;
    // the connections are gone with `serve`: the session is ours alone
    if let Ok(f) = Arc::try_unwrap(fwd) {
        let how = match &result {
            Ok(()) => AuditResult::Ok,
            Err(why) => AuditResult::Failed(why.clone()),
        };
        f.audit.end(None, how);
    }
    result
}

async fn serve(
    ctx: &TaskCtx,
    spec: &ForwardSpec,
    listener: TcpListener,
    fwd: Arc<Forwarding>,
) -> Result<(), String> {
    let shared = Arc::new(Shared::default());
    let counters = fwd.audit.counters().clone();
    let mut current = Some(resolve(fwd.reader(), spec).await?);
    shared.update(|s| s.pod = pod_of(&current));
    ctx.running(format!(
        "127.0.0.1:{} -> {}:{}",
        spec.local,
        spec.target.label(),
        spec.remote
    ))
    .await;
    let send = |stats: Stats| {
        let _ = ctx.sender().try_send(Msg::Session(SessionMsg::Forward {
            key: ctx.key().clone(),
            stats,
        }));
    };
    let mut last = shared.get(&counters);
    send(last.clone());
    let mut conns: JoinSet<Result<(), (bool, String)>> = JoinSet::new();
    let mut check = tokio::time::interval(CHECK_EVERY);
    check.tick().await;
    let mut report = tokio::time::interval(REPORT_EVERY);
    loop {
        tokio::select! {
            _ = ctx.token().cancelled() => return Ok(()),
            accepted = listener.accept() => {
                let sock = match accepted {
                    Ok((sock, _)) => sock,
                    Err(e) => {
                        // out of descriptors and the like: say so, and breathe
                        shared.update(|s| s.last_error = Some(format!("accept: {e}")));
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                if conns.len() >= MAX_CONNECTIONS {
                    shared.update(|s| s.last_error = Some(format!("more than {MAX_CONNECTIONS} connections: one refused")));
                    continue;
                }
                let (pod, port) = match &current {
                    Some(p) => p.clone(),
                    None => match resolve(fwd.reader(), spec).await {
                        Ok(p) => {
                            shared.update(|s| s.pod = p.0.clone());
                            current = Some(p.clone());
                            p
                        }
                        Err(why) => {
                            shared.update(|s| s.last_error = Some(why));
                            continue;
                        }
                    },
                };
                shared.update(|s| { s.active += 1; s.total += 1; });
                conns.spawn(connection(fwd.clone(), pod, port, sock, counters.clone()));
            }
            Some(done) = conns.join_next() => {
                shared.update(|s| s.active = s.active.saturating_sub(1));
                if let Ok(Err((gone, why))) = done {
                    shared.update(|s| s.last_error = Some(why.clone()));
                    if gone {
                        current = None;
                    }
                }
            }
            _ = check.tick() => {
                let Some((pod, _)) = current.clone() else { continue };
                match pod_state(fwd.reader(), &spec.namespace, &pod).await {
                    PodState::Ready => {}
                    PodState::Unknown(why) => shared.update(|s| s.last_error = Some(why)),
                    state => match &spec.target {
                        ForwardTarget::Pod(_) => {
                            return Err(match state {
                                PodState::Gone => format!("pod {pod} is gone"),
                                _ => format!("pod {pod} is no longer running"),
                            })
                        }
                        // the next connection finds the replacement
                        _ => {
                            current = resolve(fwd.reader(), spec).await.ok();
                            let p = pod_of(&current);
                            shared.update(|s| s.pod = p);
                        }
                    },
                }
            }
            _ = report.tick() => {
                let now = shared.get(&counters);
                if now != last {
                    last = now.clone();
                    send(now);
                }
            }
        }
    }
}

/// One local connection: its own stream to `pod`:`port`. `Err((gone,
/// why))`, `gone` when the pod is not there any more.
async fn connection(
    fwd: Arc<Forwarding>,
    pod: String,
    port: u16,
    sock: TcpStream,
    counters: Counters,
) -> Result<(), (bool, String)> {
    let mut pf = fwd.connect(&pod, port).await.map_err(|r| {
        let gone = matches!(
            r,
            Refusal::Failed {
                code: Some(404),
                ..
            }
        );
        (gone, format!("{pod}: {r}"))
    })?;
    let stream = pf
        .take_stream(port)
        .ok_or((false, format!("{pod}: no stream for port {port}")))?;
    let error = pf.take_error(port);
    let (lr, lw) = sock.into_split();
    let (rr, rw) = tokio::io::split(stream);
    let up = copy(lr, rw, |n| counters.add_in(n));
    let down = copy(rr, lw, |n| counters.add_out(n));
    tokio::join!(up, down);
    pf.abort();
    let said = match error {
        Some(e) => futures::FutureExt::now_or_never(e).flatten(),
        None => None,
    };
    match said {
        Some(msg) => Err((
            false,
            crate::sanitize::sanitize(&format!("{pod}: {msg}")).into_owned(),
        )),
        None => Ok(()),
    }
}

/// Copies until EOF or an error, then closes the writing side.
async fn copy(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    count: impl Fn(usize),
) {
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).await.is_err() {
                    break;
                }
                count(n);
            }
        }
    }
    let _ = to.shutdown().await;
}

#[derive(Debug, PartialEq, Eq)]
enum PodState {
    Ready,
    NotReady,
    Gone,
    /// The API did not answer: keep going.
    Unknown(String),
}

fn ready(pod: &Pod) -> bool {
    let status = pod.status.as_ref();
    pod.metadata.deletion_timestamp.is_none()
        && status.and_then(|s| s.phase.as_deref()) == Some("Running")
        && status
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

async fn pod_state(client: &ReadClient, namespace: &str, name: &str) -> PodState {
    let path = format!("/api/v1/namespaces/{namespace}/pods");
    let req = match kube::core::Request::new(path).get(name, &kube::api::GetParams::default()) {
        Ok(r) => r,
        Err(e) => return PodState::Unknown(e.to_string()),
    };
    match client.request::<Pod>(req).await {
        Ok(p) if ready(&p) => PodState::Ready,
        Ok(p) if p.metadata.deletion_timestamp.is_some() => PodState::Gone,
        Ok(_) => PodState::NotReady,
        Err(kube::Error::Api(s)) if s.code == 404 => PodState::Gone,
        Err(e) => PodState::Unknown(crate::write::session::describe_error(&e)),
    }
}

fn pod_of(current: &Option<(String, u16)>) -> String {
    current.as_ref().map(|c| c.0.clone()).unwrap_or_default()
}

/// The pod to forward to and its port: the pod itself (it must be ready),
/// a ready pod of the workload (by its selector; the oldest first, so a
/// forward stays on one pod while it lasts), or of the Service, its port
/// mapped to the pod's target port.
pub async fn resolve(client: &ReadClient, spec: &ForwardSpec) -> Result<(String, u16), String> {
    let ns = &spec.namespace;
    let (path, name) = match &spec.target {
        ForwardTarget::Pod(name) => {
            return match pod_state(client, ns, name).await {
                PodState::Ready => Ok((name.clone(), spec.remote)),
                PodState::Gone => Err(format!("pod {name} is gone")),
                PodState::NotReady => Err(format!("pod {name} is not running and ready")),
                PodState::Unknown(why) => Err(why),
            };
        }
        ForwardTarget::Service(name) => {
            let svc = service::get(client, ns, name).await?;
            let labels = service::selector(&svc, name)?;
            let pod = ready_pod(client, ns, &labels, &spec.target.label()).await?;
            let port = service::target_port(&svc, name, spec.remote, &pod)?;
            return Ok((pod.metadata.name.unwrap_or_default(), port));
        }
        ForwardTarget::Deployment(n) => (format!("/apis/apps/v1/namespaces/{ns}/deployments"), n),
        ForwardTarget::StatefulSet(n) => (format!("/apis/apps/v1/namespaces/{ns}/statefulsets"), n),
    };
    let get = kube::core::Request::new(path)
        .get(name, &kube::api::GetParams::default())
        .map_err(|e| e.to_string())?;
    let selector = match &spec.target {
        ForwardTarget::Deployment(_) => client
            .request::<Deployment>(get)
            .await
            .map(|d| d.spec.map(|s| s.selector)),
        _ => client
            .request::<StatefulSet>(get)
            .await
            .map(|d| d.spec.map(|s| s.selector)),
    }
    .map_err(|e| format!("{}: {}", spec.target.label(), session::describe_error(&e)))?;
    let labels = selector
        .and_then(|s| s.match_labels)
        .filter(|l| !l.is_empty())
        .ok_or_else(|| {
            format!(
                "{} has no label selector to find its pods",
                spec.target.label()
            )
        })?;
    let pod = ready_pod(client, ns, &labels, &spec.target.label()).await?;
    Ok((pod.metadata.name.unwrap_or_default(), spec.remote))
}

/// The oldest ready pod matching `labels` (GET pods with labelSelector).
async fn ready_pod(
    client: &ReadClient,
    ns: &str,
    labels: &std::collections::BTreeMap<String, String>,
    what: &str,
) -> Result<Pod, String> {
    let selector: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let list = kube::core::Request::new(format!("/api/v1/namespaces/{ns}/pods"))
        .list(&ListParams::default().labels(&selector.join(",")).limit(500))
        .map_err(|e| e.to_string())?;
    let pods = client
        .request::<k8s_openapi::List<Pod>>(list)
        .await
        .map_err(|e| session::describe_error(&e))?;
    let mut ready: Vec<Pod> = pods.items.into_iter().filter(ready).collect();
    ready.sort_by(|a, b| {
        let created = |p: &Pod| p.metadata.creation_timestamp.as_ref().map(|t| t.0);
        created(a)
            .cmp(&created(b))
            .then_with(|| a.metadata.name.cmp(&b.metadata.name))
    });
    ready
        .into_iter()
        .find(|p| p.metadata.name.is_some())
        .ok_or_else(|| format!("no ready pod of {what}"))
}
