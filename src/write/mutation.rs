//! What a change is: the object, the typed parameters, the Kubernetes verb
//! and request they mean, and the sentence a person confirms.

use super::Permission;
use crate::model::RegionId;
use kube::api::{DeleteParams, Patch, PatchParams};
use kube::core::Request;
use serde::Serialize;
use serde_json::{json, Value};

/// The object a change acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectRef {
    pub kind: String,
    /// Empty for the core group.
    pub group: String,
    pub version: String,
    /// Plural resource name, as in the URL and RBAC rules.
    pub resource: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    fn new(kind: &str, group: &str, version: &str, resource: &str, ns: &str, name: &str) -> Self {
        ObjectRef {
            kind: kind.into(),
            group: group.into(),
            version: version.into(),
            resource: resource.into(),
            namespace: Some(ns.into()),
            name: name.into(),
        }
    }

    pub fn deployment(namespace: &str, name: &str) -> ObjectRef {
        ObjectRef::new("Deployment", "apps", "v1", "deployments", namespace, name)
    }

    pub fn stateful_set(namespace: &str, name: &str) -> ObjectRef {
        ObjectRef::new("StatefulSet", "apps", "v1", "statefulsets", namespace, name)
    }

    pub fn service(namespace: &str, name: &str) -> ObjectRef {
        ObjectRef::new("Service", "", "v1", "services", namespace, name)
    }

    pub fn pod(namespace: &str, name: &str) -> ObjectRef {
        ObjectRef::new("Pod", "", "v1", "pods", namespace, name)
    }

    /// `shop/checkout`, or the bare name for cluster-scoped objects.
    pub fn display_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }

    /// The collection URL: `/apis/apps/v1/namespaces/shop/deployments`.
    pub fn collection_path(&self) -> String {
        let mut path = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        if let Some(ns) = &self.namespace {
            path.push_str("/namespaces/");
            path.push_str(ns);
        }
        path.push('/');
        path.push_str(&self.resource);
        path
    }
}

/// The change itself, typed. Each variant knows its verb, its request and
/// how it reads in a sentence and in the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Params {
    /// PATCH of the scale subresource.
    Scale {
        from: i32,
        to: i32,
    },
    /// The pod template annotation `kubectl.kubernetes.io/restartedAt`, as
    /// `kubectl rollout restart` sets it.
    Restart {
        at: String,
    },
    Pause,
    Resume,
    /// Puts back the pod template of an earlier revision, as
    /// `kubectl rollout undo --to-revision` does for a Deployment.
    Undo {
        revision: i64,
        template: Value,
        images: Vec<String>,
    },
    /// A container's image in the pod template, as `kubectl set image`
    /// sets it (strategic merge patch, containers merged by name), with the
    /// `kubernetes.io/change-cause` annotation `--record` used to write, so
    /// the new revision says why it exists.
    SetImage {
        container: String,
        image: String,
        /// What the image was, for the sentence and the audit log.
        from: String,
        change_cause: String,
    },
    /// `None` keeps the object's own grace period.
    Delete {
        grace_period_seconds: Option<u32>,
    },
}

impl Params {
    /// The name a person knows the action by.
    pub fn action(&self) -> &'static str {
        match self {
            Params::Scale { .. } => "scale",
            Params::Restart { .. } => "rollout restart",
            Params::Pause => "rollout pause",
            Params::Resume => "rollout resume",
            Params::Undo { .. } => "rollout undo",
            Params::SetImage { .. } => "set image",
            Params::Delete { .. } => "delete",
        }
    }

    /// The Kubernetes verb, as RBAC and the audit log name it.
    pub fn verb(&self) -> &'static str {
        match self {
            Params::Delete { .. } => "delete",
            _ => "patch",
        }
    }

    fn subresource(&self) -> &'static str {
        match self {
            Params::Scale { .. } => "scale",
            _ => "",
        }
    }

    /// What changes, for the sentence: `replicas 6 -> 8`.
    pub fn detail(&self) -> String {
        match self {
            Params::Scale { from, to } => format!("replicas {from} -> {to}"),
            Params::Restart { at } => format!("replace every pod (restartedAt {at})"),
            Params::Pause => "pause the rollout".into(),
            Params::Resume => "resume the rollout".into(),
            Params::Undo {
                revision, images, ..
            } => format!("back to revision {revision} ({})", images.join(", ")),
            Params::SetImage {
                container,
                image,
                from,
                ..
            } => format!("{container} image {from} -> {image}"),
            Params::Delete {
                grace_period_seconds: Some(s),
            } => format!("grace period {s} s"),
            Params::Delete { .. } => "with its own grace period".into(),
        }
    }

    /// The parameters as the audit log keeps them (an undo's whole template
    /// is summed up by its revision and images).
    pub fn audit_value(&self) -> Value {
        match self {
            Params::Scale { from, to } => json!({"replicas": {"from": from, "to": to}}),
            Params::Restart { at } => json!({"restartedAt": at}),
            Params::Pause => json!({"paused": true}),
            Params::Resume => json!({"paused": false}),
            Params::Undo {
                revision, images, ..
            } => json!({"revision": revision, "images": images}),
            Params::SetImage {
                container,
                image,
                from,
                change_cause,
            } => json!({"container": container, "image": {"from": from, "to": image},
                "changeCause": change_cause}),
            Params::Delete {
                grace_period_seconds,
            } => json!({"gracePeriodSeconds": grace_period_seconds}),
        }
    }

    fn request(&self, object: &ObjectRef) -> Result<http::Request<Vec<u8>>, String> {
        let req = Request::new(object.collection_path());
        let pp = PatchParams {
            field_manager: Some("pitwall".into()),
            ..PatchParams::default()
        };
        let name = object.name.as_str();
        let built = match self {
            Params::Scale { to, .. } => req.patch_subresource(
                "scale",
                name,
                &pp,
                &Patch::Merge(json!({"spec": {"replicas": to}})),
            ),
            Params::Restart { at } => req.patch(
                name,
                &pp,
                &Patch::Strategic(json!({"spec": {"template": {"metadata": {"annotations": {
                    "kubectl.kubernetes.io/restartedAt": at
                }}}}})),
            ),
            Params::SetImage {
                container,
                image,
                change_cause,
                ..
            } => req.patch(
                name,
                &pp,
                &Patch::Strategic(json!({
                    "metadata": {"annotations": {"kubernetes.io/change-cause": change_cause}},
                    "spec": {"template": {"spec": {"containers": [
                        {"name": container, "image": image}
                    ]}}}
                })),
            ),
            Params::Pause | Params::Resume => req.patch(
                name,
                &pp,
                &Patch::Merge(json!({"spec": {"paused": matches!(self, Params::Pause)}})),
            ),
            // kube builds no JSON patch without another crate; the request is small
            Params::Undo { template, .. } => {
                let body = json!([{"op": "replace", "path": "/spec/template", "value": template}]);
                return http::Request::builder()
                    .method(http::Method::PATCH)
                    .uri(format!(
                        "{}/{name}?fieldManager=pitwall",
                        object.collection_path()
                    ))
                    .header(http::header::CONTENT_TYPE, "application/json-patch+json")
                    .body(body.to_string().into_bytes())
                    .map_err(|e| e.to_string());
            }
            Params::Delete {
                grace_period_seconds,
            } => req.delete(
                name,
                &DeleteParams {
                    grace_period_seconds: *grace_period_seconds,
                    ..DeleteParams::default()
                },
            ),
        };
        built.map_err(|e| e.to_string())
    }
}

/// One change to one object in one region, with the sentence the person
/// confirms. Built by `Writer::prepare`, sent only by `write::send`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutation {
    pub(super) region: RegionId,
    pub(super) region_name: String,
    pub(super) context: String,
    pub(super) object: ObjectRef,
    pub(super) params: Params,
    pub(super) sentence: String,
}

impl Mutation {
    pub(super) fn new(
        region: RegionId,
        region_name: &str,
        context: &str,
        object: ObjectRef,
        params: Params,
    ) -> Mutation {
        let sentence = format!(
            "{} {} {} in {region_name} (context {context}): {}",
            params.action(),
            object.kind.to_ascii_lowercase(),
            object.display_name(),
            params.detail()
        );
        Mutation {
            region,
            region_name: region_name.into(),
            context: context.into(),
            object,
            params,
            sentence,
        }
    }

    pub fn region(&self) -> RegionId {
        self.region
    }

    pub fn object(&self) -> &ObjectRef {
        &self.object
    }

    pub fn region_name(&self) -> &str {
        &self.region_name
    }

    pub fn context(&self) -> &str {
        &self.context
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    pub fn verb(&self) -> &'static str {
        self.params.verb()
    }

    /// `scale deployment shop/checkout in cn-north (context cn-north): replicas 6 -> 8`.
    pub fn sentence(&self) -> &str {
        &self.sentence
    }

    /// What RBAC must allow for this change.
    pub fn permission(&self) -> Permission {
        Permission {
            verb: self.params.verb().into(),
            group: self.object.group.clone(),
            resource: self.object.resource.clone(),
            subresource: self.params.subresource().into(),
            namespace: self.object.namespace.clone().unwrap_or_default(),
        }
    }

    pub(super) fn request(&self) -> Result<http::Request<Vec<u8>>, String> {
        self.params.request(&self.object)
    }
}
