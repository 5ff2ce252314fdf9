//! The probes pane's state: the book fed by events, its rows as drawn
//! (most severe first), the cursor and the selected row's detail.

use super::book::{ProbeBook, ProbeDetail, ProbeKey, ProbeRow};
use crate::fleet::owners::OwnerIndex;
use crate::fleet::store::Store;
use crate::model::Timestamp;
use crate::widgets::StableCursor;

#[derive(Debug, Default)]
pub struct ProbesState {
    /// Probe failures from the kubelet's events.
    pub book: ProbeBook,
    /// Most severe first (see `ProbeBook::rows`).
    pub rows: Vec<ProbeRow>,
    pub cursor: StableCursor<ProbeKey>,
    /// Pods and recent events of the selected row.
    pub detail: Option<ProbeDetail>,
}

impl ProbesState {
    /// The rows from the book and the store; the cursor keeps its row.
    pub fn refresh(&mut self, store: &Store, now: Timestamp) {
        self.rows = self
            .book
            .rows(store.owners(), store.workloads().rows(), now);
        self.sync(store.owners(), now);
    }

    pub fn keys(&self) -> Vec<ProbeKey> {
        self.rows.iter().map(|r| r.key.clone()).collect()
    }

    /// After the rows or the cursor changed: the detail follows the
    /// selection.
    pub fn sync(&mut self, pods: &OwnerIndex, now: Timestamp) {
        let keys = self.keys();
        self.cursor.sync(&keys);
        self.detail = self
            .cursor
            .selected
            .as_ref()
            .and_then(|k| self.book.detail(k, pods, now));
    }

    pub fn selected(&self) -> Option<&ProbeRow> {
        self.rows.get(self.cursor.cursor)
    }
}
