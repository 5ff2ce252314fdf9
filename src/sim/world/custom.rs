//! Custom resources a scenario defines (`[[crd]]`) and their objects
//! (`[[custom]]`): the definition's group, names and
//! `additionalPrinterColumns`, and the objects each region serves. They do
//! not change once built, so a watch on them only carries bookmarks.

use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrdSpec {
    pub group: String,
    #[serde(default = "default_version")]
    pub version: String,
    pub kind: String,
    pub plural: String,
    #[serde(default)]
    pub singular: Option<String>,
    #[serde(default)]
    pub short_names: Vec<String>,
    #[serde(default = "default_true")]
    pub namespaced: bool,
    /// `additionalPrinterColumns`: what `kubectl get` shows after NAME.
    #[serde(default)]
    pub columns: Vec<PrinterColumn>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrinterColumn {
    pub name: String,
    /// string, integer, number, boolean or date.
    #[serde(rename = "type", default = "default_type")]
    pub type_: String,
    /// A simple JSONPath: `.spec.replicas`.
    pub json_path: String,
    #[serde(default)]
    pub priority: u8,
}

/// One object of a custom resource.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomSpec {
    pub kind: String,
    #[serde(default)]
    pub namespace: Option<String>,
    pub name: String,
    /// Regions that hold it (all when empty).
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub spec: Option<Value>,
    #[serde(default)]
    pub status: Option<Value>,
}

fn default_version() -> String {
    "v1".into()
}
fn default_true() -> bool {
    true
}
fn default_type() -> String {
    "string".into()
}

/// A custom resource as one region serves it.
#[derive(Debug, Clone)]
pub struct Served {
    pub crd: CrdSpec,
    pub objects: Vec<Value>,
}

impl CrdSpec {
    pub fn group_version(&self) -> String {
        format!("{}/{}", self.group, self.version)
    }

    pub fn singular(&self) -> String {
        self.singular
            .clone()
            .unwrap_or_else(|| self.kind.to_lowercase())
    }
}

/// The custom resources `region` serves, objects built with the clock's
/// start as their creation time.
pub fn served(
    crds: &[CrdSpec],
    objects: &[CustomSpec],
    region: &str,
    created: &str,
) -> Vec<Served> {
    crds.iter()
        .map(|crd| Served {
            crd: crd.clone(),
            objects: objects
                .iter()
                .filter(|o| o.kind == crd.kind)
                .filter(|o| o.regions.is_empty() || o.regions.iter().any(|r| r == region))
                .enumerate()
                .map(|(i, o)| {
                    let mut meta = json!({
                        "name": o.name,
                        "uid": format!("{region}-{}-{i}", crd.plural),
                        "resourceVersion": "1",
                        "generation": 1,
                        "creationTimestamp": created,
                        "labels": o.labels,
                    });
                    if crd.namespaced {
                        meta["namespace"] =
                            json!(o.namespace.clone().unwrap_or_else(|| "default".into()));
                    }
                    let mut v = json!({
                        "apiVersion": crd.group_version(),
                        "kind": crd.kind,
                        "metadata": meta,
                    });
                    if let Some(spec) = &o.spec {
                        v["spec"] = spec.clone();
                    }
                    if let Some(status) = &o.status {
                        v["status"] = status.clone();
                    }
                    v
                })
                .collect(),
        })
        .collect()
}

/// Checks a scenario's definitions and objects; the error names the field.
pub fn validate(crds: &[CrdSpec], objects: &[CustomSpec]) -> Result<(), (String, String)> {
    for (i, c) in crds.iter().enumerate() {
        let field = |f: &str| format!("crd[{i}].{f}");
        if !c.group.contains('.') {
            return Err((
                field("group"),
                "must be a DNS name such as example.com".into(),
            ));
        }
        if c.plural.is_empty() || c.plural != c.plural.to_lowercase() {
            return Err((field("plural"), "must be lower case and not empty".into()));
        }
        for col in &c.columns {
            if !col.json_path.starts_with('.') {
                return Err((
                    field("columns"),
                    format!("json_path {:?} must start with '.'", col.json_path),
                ));
            }
        }
    }
    for (i, o) in objects.iter().enumerate() {
        if !crds.iter().any(|c| c.kind == o.kind) {
            return Err((
                format!("custom[{i}].kind"),
                format!("no [[crd]] defines {:?}", o.kind),
            ));
        }
    }
    Ok(())
}
