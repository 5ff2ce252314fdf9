//! Which resource a word names, as kubectl resolves it: the plural, the
//! singular, the kind, or a short name, from discovery (`/api`, `/apis` and
//! their resource lists). Until discovery has answered, the built-in kinds
//! kubectl users type most are known by their usual short names.

use serde_json::Value;

/// One resource type a server serves.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceType {
    /// `/api/v1` or `/apis/<group>/<version>`.
    pub api: String,
    pub plural: String,
    pub singular: String,
    pub kind: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
}

impl ResourceType {
    /// Does `word` name it (case aside)?
    pub fn named(&self, word: &str) -> bool {
        let w = word.to_lowercase();
        let group = self.group();
        // `deployments.apps` names it too
        let qualified = |n: &str| !group.is_empty() && w == format!("{n}.{group}");
        w == self.plural
            || w == self.singular
            || w == self.kind.to_lowercase()
            || self.short_names.contains(&w)
            || qualified(&self.plural)
            || qualified(&self.singular)
    }

    /// The API group (`""` for the core group).
    pub fn group(&self) -> &str {
        self.api
            .strip_prefix("/apis/")
            .and_then(|gv| gv.split('/').next())
            .unwrap_or("")
    }

    /// `:deploy` as the palette and help list it.
    pub fn command(&self) -> String {
        match self.short_names.first() {
            Some(short) => format!(":{short}"),
            None => format!(":{}", self.plural),
        }
    }
}

fn builtin(api: &str, plural: &str, kind: &str, namespaced: bool, short: &[&str]) -> ResourceType {
    ResourceType {
        api: api.to_string(),
        plural: plural.to_string(),
        singular: kind.to_lowercase(),
        kind: kind.to_string(),
        namespaced,
        short_names: short.iter().map(|s| s.to_string()).collect(),
    }
}

/// The kinds kubectl users reach for first, with the short names every API
/// server gives them.
pub fn builtins() -> Vec<ResourceType> {
    vec![
        builtin(
            "/apis/apps/v1",
            "deployments",
            "Deployment",
            true,
            &["deploy"],
        ),
        builtin(
            "/apis/apps/v1",
            "statefulsets",
            "StatefulSet",
            true,
            &["sts"],
        ),
        builtin("/apis/apps/v1", "daemonsets", "DaemonSet", true, &["ds"]),
        builtin("/apis/apps/v1", "replicasets", "ReplicaSet", true, &["rs"]),
        builtin("/api/v1", "services", "Service", true, &["svc"]),
        builtin(
            "/apis/networking.k8s.io/v1",
            "ingresses",
            "Ingress",
            true,
            &["ing"],
        ),
        builtin("/api/v1", "nodes", "Node", false, &["no"]),
        builtin("/api/v1", "events", "Event", true, &["ev"]),
        builtin("/api/v1", "namespaces", "Namespace", false, &["ns"]),
        builtin("/api/v1", "configmaps", "ConfigMap", true, &["cm"]),
        builtin(
            "/api/v1",
            "persistentvolumeclaims",
            "PersistentVolumeClaim",
            true,
            &["pvc"],
        ),
        builtin("/apis/batch/v1", "jobs", "Job", true, &[]),
        builtin("/apis/batch/v1", "cronjobs", "CronJob", true, &["cj"]),
    ]
}

/// The type `word` names: discovered types first (they are what the server
/// serves), then the built-in list.
pub fn resolve(word: &str, discovered: &[ResourceType]) -> Option<ResourceType> {
    let word = word.trim().trim_start_matches(':');
    if word.is_empty() {
        return None;
    }
    discovered
        .iter()
        .find(|t| t.named(word))
        .cloned()
        .or_else(|| builtins().into_iter().find(|t| t.named(word)))
}

/// At most this many types are kept from one server's discovery.
pub const MAX_TYPES: usize = 2_000;

/// The listable resources of one discovery resource list (subresources
/// such as `pods/log` and types without `list` are left out).
pub fn from_resource_list(api: &str, list: &Value) -> Vec<ResourceType> {
    let Some(resources) = list.get("resources").and_then(Value::as_array) else {
        return Vec::new();
    };
    resources
        .iter()
        .filter_map(|r| {
            let plural = r.get("name")?.as_str()?;
            let listable = r
                .get("verbs")
                .and_then(Value::as_array)
                .is_some_and(|v| v.iter().any(|v| v.as_str() == Some("list")));
            if plural.contains('/') || !listable {
                return None;
            }
            let kind = r.get("kind")?.as_str()?.to_string();
            let singular = match r.get("singularName").and_then(Value::as_str) {
                Some(s) if !s.is_empty() => s.to_string(),
                _ => kind.to_lowercase(),
            };
            Some(ResourceType {
                api: api.to_string(),
                plural: plural.to_string(),
                singular,
                kind,
                namespaced: r.get("namespaced").and_then(Value::as_bool).unwrap_or(true),
                short_names: r
                    .get("shortNames")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_lowercase)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// The preferred `groupVersion` of each group in an `/apis` answer.
pub fn preferred_versions(apis: &Value) -> Vec<String> {
    apis.get("groups")
        .and_then(Value::as_array)
        .map(|groups| {
            groups
                .iter()
                .filter_map(|g| {
                    g.pointer("/preferredVersion/groupVersion")
                        .and_then(Value::as_str)
                        .map(String::from)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// One region's answer for a resource table: the columns the server
/// defines (priority 0, as `kubectl get` shows) and the rows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TablePage {
    pub columns: Vec<String>,
    pub rows: Vec<TableRow>,
    /// More rows than the cockpit asks for at once were left out.
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableRow {
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    pub name: String,
    pub cells: Vec<String>,
}

/// What the resources pane hears back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourcesMsg {
    /// Discovery of one region: the types it serves.
    Discovered {
        region: super::RegionId,
        result: Result<Vec<ResourceType>, String>,
    },
    /// One region's table of the resource shown (`generation` says which
    /// command it answers, so a late answer for an older one is dropped).
    Table {
        generation: u64,
        region: super::RegionId,
        result: Result<TablePage, String>,
    },
    /// The word typed resolves to nothing any region serves.
    Unknown { word: String },
}

/// Reads a `meta.k8s.io` Table: the columns of priority 0 and each row's
/// cells under them, with the object's namespace and name from the row's
/// metadata.
pub fn parse_table(table: &Value) -> Result<TablePage, String> {
    if table.get("kind").and_then(Value::as_str) != Some("Table") {
        return Err("the server did not answer with a Table".into());
    }
    let defs = table
        .get("columnDefinitions")
        .and_then(Value::as_array)
        .ok_or("a Table without columnDefinitions")?;
    let shown: Vec<usize> = defs
        .iter()
        .enumerate()
        .filter(|(_, d)| d.get("priority").and_then(Value::as_i64).unwrap_or(0) == 0)
        .map(|(i, _)| i)
        .collect();
    let columns = shown
        .iter()
        .map(|&i| {
            defs[i]
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_uppercase()
        })
        .collect();
    let rows = table
        .get("rows")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|r| {
            let cells = r.get("cells").and_then(Value::as_array);
            let cell = |i: usize| match cells.and_then(|c| c.get(i)) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => "<none>".into(),
                Some(other) => other.to_string(),
            };
            let meta = |k: &str| {
                r.pointer(&format!("/object/metadata/{k}"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            let name = match meta("name") {
                n if n.is_empty() => cell(0),
                n => n,
            };
            TableRow {
                namespace: meta("namespace"),
                name,
                cells: shown.iter().map(|&i| cell(i)).collect(),
            }
        })
        .collect();
    let truncated = table
        .pointer("/metadata/continue")
        .and_then(Value::as_str)
        .is_some_and(|c| !c.is_empty());
    Ok(TablePage {
        columns,
        rows,
        truncated,
    })
}
