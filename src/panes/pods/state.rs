//! What the pods table shows: its columns and the spec (sort, filter,
//! scopes) of its view. The rows, and the ordered view over them, are in
//! the fleet store (`fleet::store`).

use crate::model::RegionId;

/// The table's columns, in display order. Sorting works on every one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Region,
    Namespace,
    Name,
    Ready,
    Status,
    Restarts,
    Age,
    Node,
    Ip,
    Owner,
}

impl Column {
    pub const ALL: [Column; 10] = [
        Column::Region,
        Column::Namespace,
        Column::Name,
        Column::Ready,
        Column::Status,
        Column::Restarts,
        Column::Age,
        Column::Node,
        Column::Ip,
        Column::Owner,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Column::Region => "REGION",
            Column::Namespace => "NAMESPACE",
            Column::Name => "NAME",
            Column::Ready => "READY",
            Column::Status => "STATUS",
            Column::Restarts => "RESTARTS",
            Column::Age => "AGE",
            Column::Node => "NODE",
            Column::Ip => "IP",
            Column::Owner => "OWNER",
        }
    }

    pub fn next(self) -> Column {
        let i = Column::ALL.iter().position(|c| *c == self).unwrap_or(0);
        Column::ALL[(i + 1) % Column::ALL.len()]
    }

    pub fn prev(self) -> Column {
        let i = Column::ALL.iter().position(|c| *c == self).unwrap_or(0);
        Column::ALL[(i + Column::ALL.len() - 1) % Column::ALL.len()]
    }
}

/// What narrows and orders the view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewSpec {
    pub sort: Column,
    pub reverse: bool,
    /// Fuzzy pattern on name, namespace, node and owner; empty = everything.
    pub filter: String,
    pub region: Option<RegionId>,
    pub namespace: Option<String>,
    pub problems_only: bool,
    /// Only pods of this workload (kind, name), e.g. from a triage jump.
    pub owner: Option<(String, String)>,
}

impl Default for ViewSpec {
    fn default() -> Self {
        ViewSpec {
            sort: Column::Namespace,
            reverse: false,
            filter: String::new(),
            region: None,
            namespace: None,
            problems_only: false,
            owner: None,
        }
    }
}
