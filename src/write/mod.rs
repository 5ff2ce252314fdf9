//! The only path to a cluster write. A `Mutation` (region, object, typed
//! parameters, the sentence a person reads) becomes a `Confirmation` the UI
//! shows, then a `Confirmed` once the person answers, and `send` alone puts
//! it on the wire, in this order:
//!
//! 1. refused in read-only mode (global or the region's) before anything is sent;
//! 2. RBAC: a SelfSubjectAccessReview, cached briefly (`rbac`);
//! 3. the confirmation: production regions need the object's name typed;
//! 4. the request, with the region's raw client (only reachable here);
//! 5. the audit record (`audit`), success or failure.
//!
//! Everything else holds a `ReadClient` (`read`), which only sends GETs.

pub mod audit;
pub mod audit_read;
mod mutation;
pub mod rbac;
pub mod read;
pub mod session;

pub use audit::Audit;
pub use mutation::{Mutation, ObjectRef, Params};
pub use rbac::Access;
pub use read::ReadClient;

use crate::config::RegionConfig;
use crate::model::RegionId;
use rbac::RbacCache;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long an RBAC answer is trusted.
pub const RBAC_TTL: Duration = Duration::from_secs(60);
/// Most RBAC answers kept.
pub const RBAC_CAP: usize = 512;

/// What may be done in one region.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegionPolicy {
    pub name: String,
    pub context: String,
    /// Changes need the object's name typed.
    pub production: bool,
    /// This region refuses every change.
    pub read_only: bool,
}

impl RegionPolicy {
    pub fn from_config(r: &RegionConfig) -> RegionPolicy {
        RegionPolicy {
            name: r.name.clone(),
            context: r.context.clone(),
            production: r.production,
            // `read_only = true` in the region's `[[region]]`
            read_only: r.read_only,
        }
    }
}

/// A permission RBAC is asked about (the SelfSubjectAccessReview's
/// resourceAttributes, and the cache key with the region).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Permission {
    pub verb: String,
    /// Empty for the core group.
    pub group: String,
    pub resource: String,
    /// `scale`, `exec`, ...; empty for none.
    pub subresource: String,
    /// Empty for cluster-wide.
    pub namespace: String,
}

impl Permission {
    /// Exec into a pod (`create pods/exec`).
    pub fn exec(namespace: &str) -> Permission {
        Permission {
            verb: "create".into(),
            group: String::new(),
            resource: "pods".into(),
            subresource: "exec".into(),
            namespace: namespace.into(),
        }
    }

    /// Port-forward to a pod (`create pods/portforward`).
    pub fn port_forward(namespace: &str) -> Permission {
        Permission {
            subresource: "portforward".into(),
            ..Permission::exec(namespace)
        }
    }
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.verb, self.resource)?;
        if !self.group.is_empty() {
            write!(f, ".{}", self.group)?;
        }
        if !self.subresource.is_empty() {
            write!(f, "/{}", self.subresource)?;
        }
        if !self.namespace.is_empty() {
            write!(f, " in namespace {}", self.namespace)?;
        }
        Ok(())
    }
}

/// Why a change was not made. Every variant but `Failed` means nothing was
/// sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Read-only mode; `region` is set when only that region is read-only.
    ReadOnly {
        region: Option<String>,
    },
    UnknownRegion(RegionId),
    /// No client for the region yet.
    NotConnected(String),
    /// RBAC says no, with the reason.
    Forbidden(String),
    /// The permission could not be checked; refused rather than guessed.
    PermissionUnknown(String),
    /// The person did not confirm as the region requires.
    NotConfirmed(String),
    /// Sent, and the server (or the network) said no: the server's Status
    /// message, sanitised, as it said it.
    Failed {
        code: Option<u16>,
        message: String,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::ReadOnly { region: None } => f.write_str("read-only mode: no changes"),
            Refusal::ReadOnly { region: Some(r) } => {
                write!(f, "region {r} is read-only: no changes")
            }
            Refusal::UnknownRegion(r) => write!(f, "no region #{r}"),
            Refusal::NotConnected(r) => write!(f, "region {r} is not connected yet"),
            Refusal::Forbidden(why) | Refusal::PermissionUnknown(why) => f.write_str(why),
            Refusal::NotConfirmed(why) => write!(f, "not confirmed: {why}"),
            Refusal::Failed {
                code: Some(c),
                message,
            } => write!(f, "{c}: {message}"),
            Refusal::Failed {
                code: None,
                message,
            } => f.write_str(message),
        }
    }
}

/// A change the server accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The mutation's sentence.
    pub sentence: String,
    pub duration: Duration,
    /// Whether the audit record was written; the change happened either way.
    pub audit: Result<(), String>,
}

/// Looks up a region's read-only handle.
pub type ClientLookup = Arc<dyn Fn(RegionId) -> Option<ReadClient> + Send + Sync>;

/// What the write path needs: each region's policy, the global read-only
/// switch, the clients, the RBAC cache and the audit log. Cheap to share
/// behind an `Arc`.
pub struct Writer {
    regions: Vec<RegionPolicy>,
    read_only: bool,
    clients: ClientLookup,
    rbac: RbacCache,
    audit: Audit,
}

impl Writer {
    pub fn new(
        regions: Vec<RegionPolicy>,
        read_only: bool,
        clients: ClientLookup,
        audit: Audit,
    ) -> Writer {
        Writer {
            regions,
            read_only,
            clients,
            rbac: RbacCache::new(RBAC_TTL, RBAC_CAP),
            audit,
        }
    }

    /// Another RBAC cache lifetime (tests).
    pub fn with_rbac_ttl(mut self, ttl: Duration) -> Writer {
        self.rbac = RbacCache::new(ttl, RBAC_CAP);
        self
    }

    pub fn audit(&self) -> &Audit {
        &self.audit
    }

    pub fn rbac(&self) -> &RbacCache {
        &self.rbac
    }

    pub fn policy(&self, region: RegionId) -> Option<&RegionPolicy> {
        self.regions.get(region)
    }

    /// A change ready to be confirmed: its sentence, and whether the name
    /// must be typed.
    pub fn prepare(
        &self,
        region: RegionId,
        object: ObjectRef,
        params: Params,
    ) -> Result<Confirmation, Refusal> {
        let policy = self.policy(region).ok_or(Refusal::UnknownRegion(region))?;
        let mutation = Mutation::new(region, &policy.name, &policy.context, object, params);
        Ok(Confirmation {
            mutation,
            typed_name_required: policy.production,
        })
    }

    /// Read-only refusal, global first.
    fn read_only_refusal(&self, policy: &RegionPolicy) -> Option<Refusal> {
        if self.read_only {
            return Some(Refusal::ReadOnly { region: None });
        }
        policy.read_only.then(|| Refusal::ReadOnly {
            region: Some(policy.name.clone()),
        })
    }
}

/// The confirmation the UI shows (gitui's ConfirmAction): the sentence, and
/// whether the person must type the object's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    mutation: Mutation,
    typed_name_required: bool,
}

impl Confirmation {
    pub fn mutation(&self) -> &Mutation {
        &self.mutation
    }

    pub fn typed_name_required(&self) -> bool {
        self.typed_name_required
    }

    /// What the modal asks.
    pub fn prompt(&self) -> String {
        if self.typed_name_required {
            format!(
                "{}\nproduction region: type `{}` to confirm",
                self.mutation.sentence(),
                self.mutation.object().name
            )
        } else {
            format!("{}\nconfirm? (y/n)", self.mutation.sentence())
        }
    }

    /// The person said yes, typing `typed` (ignored where no name is needed).
    /// `send` checks it against the region's policy.
    pub fn confirm(self, typed: &str) -> Confirmed {
        Confirmed {
            mutation: self.mutation,
            typed: typed.to_string(),
        }
    }
}

/// A mutation a person confirmed (gitui's ConfirmedAction). Built only by
/// `Confirmation::confirm`; consumed by `send`. Clone and Eq so it can ride
/// in an `Effect`; sending it twice still passes every check twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmed {
    mutation: Mutation,
    typed: String,
}

impl Confirmed {
    pub fn mutation(&self) -> &Mutation {
        &self.mutation
    }

    /// What the person typed: one answer may confirm several changes to
    /// objects of the same name (a promotion's waves), each checked again
    /// by `send` against its own region's policy.
    pub fn typed(&self) -> &str {
        &self.typed
    }

    fn check(&self, policy: &RegionPolicy) -> Result<(), Refusal> {
        let name = &self.mutation.object().name;
        if policy.production && self.typed != *name {
            return Err(Refusal::NotConfirmed(format!(
                "{} is a production region: type `{name}` exactly",
                policy.name
            )));
        }
        Ok(())
    }
}

/// May this be done in `region`? For greying actions before they are
/// offered: read-only first, then RBAC (cached).
pub async fn allowed(writer: &Writer, region: RegionId, perm: &Permission) -> Access {
    if writer.read_only {
        return Access::Denied(Refusal::ReadOnly { region: None }.to_string());
    }
    let Some(policy) = writer.policy(region) else {
        return Access::Unknown(Refusal::UnknownRegion(region).to_string());
    };
    if let Some(r) = writer.read_only_refusal(policy) {
        return Access::Denied(r.to_string());
    }
    if let Some(hit) = writer.rbac.get(region, perm) {
        return hit;
    }
    match (writer.clients)(region) {
        Some(c) => writer.rbac.check(c.raw(), region, perm).await,
        None => Access::Unknown(Refusal::NotConnected(policy.name.clone()).to_string()),
    }
}

/// Sends a confirmed change: the one function that writes to a cluster.
/// Refusals before the request are not audited (nothing reached the
/// cluster); they are logged.
pub async fn send(writer: &Writer, confirmed: Confirmed) -> Result<Outcome, Refusal> {
    let m = &confirmed.mutation;
    let (policy, client, req) = match checks(writer, &confirmed).await {
        Ok(ready) => ready,
        Err(refusal) => {
            tracing::info!(change = m.sentence(), "refused: {refusal}");
            return Err(refusal);
        }
    };
    let started = Instant::now();
    let sent = client.raw().request::<serde_json::Value>(req).await;
    let duration = started.elapsed();
    let result = sent.map(drop).map_err(|e| Refusal::Failed {
        code: match &e {
            kube::Error::Api(s) => Some(s.code),
            _ => None,
        },
        message: error_text(&e),
    });
    let audit = writer.audit.record(audit::Record::new(
        &policy.name,
        &policy.context,
        m.verb(),
        m.params().action(),
        m.object().clone(),
        m.params().audit_value(),
        match &result {
            Ok(()) => audit::AuditResult::Ok,
            Err(r) => audit::AuditResult::Failed(r.to_string()),
        },
        duration,
    ));
    if let Err(e) = &audit {
        tracing::error!("{e}");
    }
    result.map(|()| Outcome {
        sentence: m.sentence().to_string(),
        duration,
        audit,
    })
}

/// Steps 1 to 3, in order, and the request to send.
async fn checks<'w>(
    writer: &'w Writer,
    confirmed: &Confirmed,
) -> Result<(&'w RegionPolicy, ReadClient, http::Request<Vec<u8>>), Refusal> {
    let m = &confirmed.mutation;
    if writer.read_only {
        return Err(Refusal::ReadOnly { region: None });
    }
    let policy = writer
        .policy(m.region())
        .ok_or(Refusal::UnknownRegion(m.region()))?;
    if let Some(r) = writer.read_only_refusal(policy) {
        return Err(r);
    }
    let client =
        (writer.clients)(m.region()).ok_or_else(|| Refusal::NotConnected(policy.name.clone()))?;
    match writer
        .rbac
        .check(client.raw(), m.region(), &m.permission())
        .await
    {
        Access::Allowed => {}
        Access::Denied(why) => return Err(Refusal::Forbidden(why)),
        Access::Unknown(why) => return Err(Refusal::PermissionUnknown(why)),
    }
    confirmed.check(policy)?;
    let req = m.request().map_err(|e| Refusal::Failed {
        code: None,
        message: format!("cannot build the request: {e}"),
    })?;
    Ok((policy, client, req))
}

/// The server's Status message as it said it (or the innermost cause of a
/// transport error), made safe for the screen.
pub(crate) fn error_text(e: &kube::Error) -> String {
    let raw = match e {
        kube::Error::Api(s) if !s.message.is_empty() => s.message.clone(),
        kube::Error::Api(s) => s.reason.clone(),
        other => {
            let mut cur: &(dyn std::error::Error + 'static) = other;
            while let Some(next) = cur.source() {
                cur = next;
            }
            cur.to_string()
        }
    };
    crate::sanitize::sanitize(&raw).into_owned()
}

#[cfg(test)]
mod test_server;
#[cfg(test)]
mod tests;
