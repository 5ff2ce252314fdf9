//! Sessions that reach into a container: exec and port-forward. They open
//! through the write path like any change, in the same order: refused in
//! read-only mode before anything is sent, then RBAC (`create pods/exec`,
//! `create pods/portforward`, a SelfSubjectAccessReview, cached), then the
//! connection with the region's own client. Each session writes an audit
//! `Session` record when it starts and one when it ends (exit code, bytes
//! each way); the end record is written on drop too, so a session that is
//! aborted (SIGTERM, a stopped task) is never left without one.

use super::audit::{AuditResult, Record, Session};
use super::{error_text, Access, ObjectRef, Permission, ReadClient, Refusal, Writer};
use crate::model::RegionId;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams, AttachedProcess, Portforwarder};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

pub use kube::api::TerminalSize;

/// Bytes a session moved: `input` from the user to the container,
/// `output` back. Shared with whoever copies the bytes.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    input: Arc<AtomicU64>,
    output: Arc<AtomicU64>,
}

impl Counters {
    pub fn add_in(&self, n: usize) {
        self.input.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn add_out(&self, n: usize) {
        self.output.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// (in, out).
    pub fn get(&self) -> (u64, u64) {
        (
            self.input.load(Ordering::Relaxed),
            self.output.load(Ordering::Relaxed),
        )
    }
}

/// A session's audit trail: the start record is written when it is made,
/// the end record by `end` (or on drop, as `ended without a status`).
pub struct SessionAudit {
    writer: Arc<Writer>,
    region: String,
    context: String,
    kind: &'static str,
    object: ObjectRef,
    parameters: Value,
    started: Instant,
    counters: Counters,
    ended: bool,
    /// What the end record says when the session is dropped unended.
    on_drop: AuditResult,
}

impl SessionAudit {
    fn record(
        &self,
        phase: &'static str,
        exit_code: Option<i32>,
        result: AuditResult,
    ) -> Result<(), String> {
        let (bytes_in, bytes_out) = self.counters.get();
        let mut r = Record::new(
            &self.region,
            &self.context,
            "create",
            self.kind,
            self.object.clone(),
            self.parameters.clone(),
            result,
            if phase == "start" {
                std::time::Duration::ZERO
            } else {
                self.started.elapsed()
            },
        );
        r.session = Some(Session {
            phase,
            kind: self.kind,
            exit_code,
            bytes_in,
            bytes_out,
        });
        self.writer.audit().record(r)
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Writes the end record: the exit code if there is one, and how it
    /// ended (`Failed` with the reason when it did not end by itself).
    pub fn end(mut self, exit_code: Option<i32>, result: AuditResult) {
        self.ended = true;
        if let Err(e) = self.record("end", exit_code, result) {
            tracing::error!("{e}");
        }
    }
}

impl Drop for SessionAudit {
    fn drop(&mut self) {
        if !self.ended {
            let why = self.on_drop.clone();
            if let Err(e) = self.record("end", None, why) {
                tracing::error!("{e}");
            }
        }
    }
}

/// Read-only refusal, the client, then RBAC for `perm`: nothing is sent
/// before the first passes, only the access review before the second.
async fn checks(
    writer: &Writer,
    region: RegionId,
    perm: &Permission,
) -> Result<(super::RegionPolicy, ReadClient), Refusal> {
    if writer.read_only {
        return Err(Refusal::ReadOnly { region: None });
    }
    let policy = writer
        .policy(region)
        .ok_or(Refusal::UnknownRegion(region))?;
    if let Some(r) = writer.read_only_refusal(policy) {
        return Err(r);
    }
    let client =
        (writer.clients)(region).ok_or_else(|| Refusal::NotConnected(policy.name.clone()))?;
    match writer.rbac.check(client.raw(), region, perm).await {
        Access::Allowed => Ok((policy.clone(), client)),
        Access::Denied(why) => Err(Refusal::Forbidden(why)),
        Access::Unknown(why) => Err(Refusal::PermissionUnknown(why)),
    }
}

/// The session's audit trail, started: refused (nothing connected) when
/// the start record cannot be written, so no session goes unaudited.
fn start_audit(
    writer: &Arc<Writer>,
    policy: &super::RegionPolicy,
    kind: &'static str,
    object: ObjectRef,
    parameters: Value,
) -> Result<SessionAudit, Refusal> {
    let mut audit = SessionAudit {
        writer: writer.clone(),
        region: policy.name.clone(),
        context: policy.context.clone(),
        kind,
        object,
        parameters,
        started: Instant::now(),
        counters: Counters::default(),
        ended: true,
        on_drop: AuditResult::Failed("ended without a status (aborted)".into()),
    };
    audit
        .record("start", None, AuditResult::Ok)
        .map_err(|e| Refusal::Failed {
            code: None,
            message: format!("no session without its audit record: {e}"),
        })?;
    audit.ended = false;
    Ok(audit)
}

/// A client error as the screen shows it (the server's Status message).
pub fn describe_error(e: &kube::Error) -> String {
    error_text(e)
}

fn failed(e: &kube::Error) -> Refusal {
    Refusal::Failed {
        code: match e {
            kube::Error::Api(s) => Some(s.code),
            _ => None,
        },
        message: error_text(e),
    }
}

/// What to run and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRequest {
    pub region: RegionId,
    pub namespace: String,
    pub pod: String,
    /// `None`: the pod's default container.
    pub container: Option<String>,
    pub command: Vec<String>,
    /// A TTY (stdin and stdout, no separate stderr), as `kubectl exec -it`.
    pub tty: bool,
}

/// An open exec session: the process, and its audit trail (call
/// `audit.end(..)` with the exit code when it is over).
pub struct ExecSession {
    pub process: AttachedProcess,
    pub audit: SessionAudit,
}

/// Opens an exec session through the write path: read-only, RBAC
/// (`create pods/exec`), the start record, then the WebSocket.
pub async fn exec_session(writer: &Arc<Writer>, req: &ExecRequest) -> Result<ExecSession, Refusal> {
    let (policy, client) = checks(writer, req.region, &Permission::exec(&req.namespace)).await?;
    let params = json!({
        "container": req.container,
        "command": req.command,
        "tty": req.tty,
    });
    let audit = start_audit(
        writer,
        &policy,
        "exec",
        ObjectRef::pod(&req.namespace, &req.pod),
        params,
    )?;
    let ap = AttachParams {
        container: req.container.clone(),
        stdin: true,
        stdout: true,
        stderr: !req.tty,
        tty: req.tty,
        max_stdin_buf_size: Some(16 * 1024),
        max_stdout_buf_size: Some(64 * 1024),
        max_stderr_buf_size: Some(16 * 1024),
    };
    let api: Api<Pod> = Api::namespaced(client.raw().clone(), &req.namespace);
    match api.exec(&req.pod, req.command.clone(), &ap).await {
        Ok(process) => Ok(ExecSession { process, audit }),
        Err(e) => {
            let refusal = failed(&e);
            audit.end(None, AuditResult::Failed(refusal.to_string()));
            Err(refusal)
        }
    }
}

/// The exit code a session's final Status carries: 0 for `Success`, the
/// `ExitCode` cause for `NonZeroExitCode`; `None` when it says neither
/// (then its message says why).
pub fn exit_code(status: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Status) -> Option<i32> {
    if status.status.as_deref() == Some("Success") {
        return Some(0);
    }
    status
        .details
        .as_ref()?
        .causes
        .as_ref()?
        .iter()
        .find(|c| c.reason.as_deref() == Some("ExitCode"))
        .and_then(|c| c.message.as_deref()?.trim().parse().ok())
}

/// A port-forward the write path let open: each local connection asks
/// `connect` for its own stream to a pod of the namespace. Holds the
/// region's client, which it uses for nothing else.
pub struct Forwarding {
    client: kube::Client,
    read: ReadClient,
    writer: Arc<Writer>,
    region: RegionId,
    namespace: String,
    pub audit: SessionAudit,
}

/// Opens a port-forward through the write path: read-only, RBAC (`create
/// pods/portforward`), the start record. `object` is what the person chose
/// (a pod or a workload); `parameters` the ports.
pub async fn port_forward(
    writer: &Arc<Writer>,
    region: RegionId,
    object: ObjectRef,
    parameters: Value,
) -> Result<Forwarding, Refusal> {
    let namespace = object.namespace.clone().unwrap_or_default();
    let (policy, client) = checks(writer, region, &Permission::port_forward(&namespace)).await?;
    let mut audit = start_audit(writer, &policy, "port-forward", object, parameters)?;
    // a forward ends when it is stopped (its task dropped): that is no failure
    audit.on_drop = AuditResult::Ok;
    Ok(Forwarding {
        client: client.raw().clone(),
        read: client,
        writer: writer.clone(),
        region,
        namespace,
        audit,
    })
}

impl Forwarding {
    /// The region's read-only handle (to find the pod to forward to).
    pub fn reader(&self) -> &ReadClient {
        &self.read
    }

    /// One stream to `pod`'s `port`: RBAC again (cached; a permission
    /// withdrawn stops new connections), then the WebSocket.
    pub async fn connect(&self, pod: &str, port: u16) -> Result<Portforwarder, Refusal> {
        let perm = Permission::port_forward(&self.namespace);
        match self
            .writer
            .rbac
            .check(&self.client, self.region, &perm)
            .await
        {
            Access::Allowed => {}
            Access::Denied(why) => return Err(Refusal::Forbidden(why)),
            Access::Unknown(why) => return Err(Refusal::PermissionUnknown(why)),
        }
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        api.portforward(pod, &[port]).await.map_err(|e| failed(&e))
    }
}
