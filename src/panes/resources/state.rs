//! The resources pane's state: the command shown, each region's table as
//! its server printed it, and the view over them (region and namespace
//! scopes, filter, sort).

use crate::model::resource::{ResourceType, TablePage};
use crate::model::RegionId;

/// One region's answer so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegionTable {
    pub page: Option<TablePage>,
    pub error: Option<String>,
}

#[derive(Debug, Default)]
pub struct ResourcesState {
    /// What was typed (`deploy`).
    pub word: String,
    /// Which command the tables answer; older answers are dropped.
    pub generation: u64,
    /// The type the word named, once known.
    pub rt: Option<ResourceType>,
    /// Types the regions' discovery reported, each once.
    pub discovered: Vec<ResourceType>,
    /// By region id.
    pub tables: Vec<RegionTable>,
    pub cursor: usize,
    pub filter: String,
    /// Sorted by this column of the view (`None`: region, then the server's
    /// order).
    pub sort: Option<usize>,
    pub reverse: bool,
    /// A discovery for the palette is under way.
    pub discovering: bool,
    /// Discoveries started (each task has its own key).
    pub discoveries: u64,
    /// The task that follows the tables.
    pub task: Option<crate::tasks::TaskKey>,
}

/// One row of the view, across regions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewRow {
    pub region: RegionId,
    pub namespace: String,
    pub name: String,
    /// Under `View::columns`.
    pub cells: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct View {
    pub columns: Vec<String>,
    pub rows: Vec<ViewRow>,
}

impl ResourcesState {
    /// The columns: REGION, NAMESPACE for namespaced kinds, then the
    /// server's (the first region that answered defines their order).
    pub fn columns(&self) -> Vec<String> {
        let mut out = vec!["REGION".to_string()];
        if self.rt.as_ref().is_none_or(|t| t.namespaced) {
            out.push("NAMESPACE".into());
        }
        if let Some(page) = self.tables.iter().find_map(|t| t.page.as_ref()) {
            out.extend(page.columns.iter().cloned());
        }
        out
    }

    /// Every region's rows under the shared columns, scoped, filtered and
    /// sorted.
    pub fn view(
        &self,
        region_names: &[String],
        region: Option<RegionId>,
        namespace: Option<&str>,
    ) -> View {
        let columns = self.columns();
        let namespaced = columns.get(1).is_some_and(|c| c == "NAMESPACE");
        let server_cols = &columns[if namespaced { 2 } else { 1 }..];
        let filter = Filter::parse(&self.filter, &columns);
        let mut rows = Vec::new();
        for (r, table) in self.tables.iter().enumerate() {
            if region.is_some_and(|want| want != r) {
                continue;
            }
            let Some(page) = &table.page else { continue };
            // a region whose server prints other columns: match by name
            let index: Vec<Option<usize>> = server_cols
                .iter()
                .map(|c| page.columns.iter().position(|p| p == c))
                .collect();
            for row in &page.rows {
                if namespace.is_some_and(|ns| ns != row.namespace) {
                    continue;
                }
                let mut cells = Vec::with_capacity(columns.len());
                cells.push(region_names.get(r).cloned().unwrap_or_default());
                if namespaced {
                    cells.push(row.namespace.clone());
                }
                cells.extend(index.iter().map(|i| {
                    i.and_then(|i| row.cells.get(i).cloned())
                        .unwrap_or_default()
                }));
                if filter.matches(&cells) {
                    rows.push(ViewRow {
                        region: r,
                        namespace: row.namespace.clone(),
                        name: row.name.clone(),
                        cells,
                    });
                }
            }
        }
        if let Some(c) = self.sort {
            rows.sort_by(|a, b| {
                compare_cells(
                    &a.cells[c.min(a.cells.len() - 1)],
                    &b.cells[c.min(b.cells.len() - 1)],
                )
            });
        }
        if self.reverse {
            rows.reverse();
        }
        View { columns, rows }
    }
}

/// Numbers (`12`, `3/4`, ages such as `5m`) compare as numbers where both
/// sides read as one, text otherwise.
fn compare_cells(a: &str, b: &str) -> std::cmp::Ordering {
    match (lead_number(a), lead_number(b)) {
        (Some(x), Some(y)) if x != y => x.cmp(&y),
        _ => a.cmp(b),
    }
}

fn lead_number(s: &str) -> Option<u64> {
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The filter: words that must all appear (case aside) in some cell, or
/// `column:value` narrowing one column (`status:NotReady`, `region:eu`).
struct Filter {
    terms: Vec<(Option<usize>, String)>,
}

impl Filter {
    fn parse(text: &str, columns: &[String]) -> Filter {
        let terms = text
            .split_whitespace()
            .map(|t| {
                if let Some((col, value)) = t.split_once(':') {
                    let col = col.to_uppercase();
                    if let Some(i) = columns.iter().position(|c| *c == col) {
                        return (Some(i), value.to_lowercase());
                    }
                }
                (None, t.to_lowercase())
            })
            .collect();
        Filter { terms }
    }

    fn matches(&self, cells: &[String]) -> bool {
        self.terms.iter().all(|(col, needle)| match col {
            Some(i) => cells
                .get(*i)
                .is_some_and(|c| c.to_lowercase().contains(needle)),
            None => cells.iter().any(|c| c.to_lowercase().contains(needle)),
        })
    }
}
