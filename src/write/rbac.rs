//! RBAC through SelfSubjectAccessReview, answered by the API server itself,
//! cached briefly per region and permission so greying actions in the UI
//! costs one request a minute, not one per frame.

use super::Permission;
use crate::model::RegionId;
use kube::api::PostParams;
use kube::core::Request;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What the server says about a permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    Allowed,
    /// Not allowed, with the reason to show beside the greyed action.
    Denied(String),
    /// The review could not be made (not connected, no answer): the UI may
    /// offer the action, the write path refuses it.
    Unknown(String),
}

/// Answers kept for `ttl`, at most `cap` of them. Only definite answers are
/// kept: an `Unknown` is asked again next time.
pub struct RbacCache {
    ttl: Duration,
    cap: usize,
    entries: Mutex<HashMap<(RegionId, Permission), (Instant, Access)>>,
}

impl RbacCache {
    pub fn new(ttl: Duration, cap: usize) -> RbacCache {
        RbacCache {
            ttl,
            cap: cap.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The cached answer, if still fresh.
    pub fn get(&self, region: RegionId, perm: &Permission) -> Option<Access> {
        let entries = self.entries.lock().ok()?;
        let (at, access) = entries.get(&(region, perm.clone()))?;
        (at.elapsed() < self.ttl).then(|| access.clone())
    }

    fn put(&self, region: RegionId, perm: Permission, access: Access) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= self.cap {
            let ttl = self.ttl;
            entries.retain(|_, (at, _)| at.elapsed() < ttl);
        }
        if entries.len() >= self.cap {
            let oldest = entries
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                entries.remove(&k);
            }
        }
        entries.insert((region, perm), (Instant::now(), access));
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cached answer, or a fresh review from the server.
    pub async fn check(
        &self,
        client: &kube::Client,
        region: RegionId,
        perm: &Permission,
    ) -> Access {
        if let Some(hit) = self.get(region, perm) {
            return hit;
        }
        let access = review(client, perm).await;
        if !matches!(access, Access::Unknown(_)) {
            self.put(region, perm.clone(), access.clone());
        }
        access
    }
}

/// POSTs one SelfSubjectAccessReview. With `write::send`, the only POST
/// pitwall makes.
async fn review(client: &kube::Client, perm: &Permission) -> Access {
    let body = json!({
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {
            "namespace": perm.namespace,
            "verb": perm.verb,
            "group": perm.group,
            "resource": perm.resource,
            "subresource": perm.subresource,
        }},
    });
    let req = match Request::new("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
        .create(&PostParams::default(), body.to_string().into_bytes())
    {
        Ok(r) => r,
        Err(e) => return Access::Unknown(e.to_string()),
    };
    let answer: Value = match client.request(req).await {
        Ok(v) => v,
        Err(e) => {
            return Access::Unknown(format!(
                "permission check failed: {}",
                super::error_text(&e)
            ))
        }
    };
    let status = answer.get("status");
    let allowed = status
        .and_then(|s| s.get("allowed"))
        .and_then(Value::as_bool);
    let reason = status
        .and_then(|s| s.get("reason"))
        .and_then(Value::as_str)
        .unwrap_or("");
    match allowed {
        Some(true) => Access::Allowed,
        Some(false) => {
            let mut text = format!("RBAC: not allowed to {perm}");
            if !reason.is_empty() {
                text.push_str(" (");
                text.push_str(&crate::sanitize::sanitize(reason));
                text.push(')');
            }
            Access::Denied(text)
        }
        None => Access::Unknown("permission check: the server's answer had no status".into()),
    }
}
