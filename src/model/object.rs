//! Which object of which region a describe or YAML view shows: enough to
//! build its API path for any kind, built-in or custom.

use super::RegionId;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ApiObject {
    pub region: RegionId,
    /// `/api/v1` or `/apis/<group>/<version>`.
    pub api: String,
    /// The resource's plural name (`deployments`).
    pub plural: String,
    /// Its kind (`Deployment`), which its events name.
    pub kind: String,
    /// `None` for a cluster-scoped object.
    pub namespace: Option<String>,
    pub name: String,
}

/// How the view shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShowAs {
    /// As `kubectl describe` reads.
    #[default]
    Describe,
    /// The object as YAML.
    Yaml,
}

impl ApiObject {
    pub fn pod(region: RegionId, namespace: &str, name: &str) -> ApiObject {
        ApiObject {
            region,
            api: "/api/v1".into(),
            plural: "pods".into(),
            kind: "Pod".into(),
            namespace: Some(namespace.into()),
            name: name.into(),
        }
    }

    /// The collection the object lives in (GET on it lists).
    pub fn collection(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/namespaces/{ns}/{}", self.api, self.plural),
            None => format!("{}/{}", self.api, self.plural),
        }
    }

    /// `kind namespace/name` for titles.
    pub fn label(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind.to_lowercase(), self.name),
            None => format!("{} {}", self.kind.to_lowercase(), self.name),
        }
    }
}
