//! The logs pane: live, merged, structured tails of many pods across
//! regions, bounded in bytes and honest about what it dropped.
//! `line.rs` (an entry: origin, instant, safe text, parsed JSON),
//! `stream.rs` (multi-line assembly, resume without gap or duplicate),
//! `follow.rs` (one container's stream: request, reconnect, end),
//! `merge.rs` (time order across streams with a reorder window),
//! `buffer.rs` (the byte-bounded ring, saving), `budget.rs` (the bytes
//! in flight from the streams to the pane), `filter.rs` (include,
//! exclude, level, field, highlight, search), `es.rs` (history from each
//! region's Elasticsearch), `select.rs` (what is followed), `pane.rs` (the
//! pane's state and stream planning), `task.rs` (streams and history as
//! long-lived tasks), `keys.rs` (its keys and inputs).

pub mod budget;
pub mod buffer;
pub mod es;
pub mod filter;
pub mod follow;
pub mod keys;
pub mod line;
pub mod merge;
pub mod pane;
pub mod select;
pub mod state;
pub mod stream;
pub mod task;
pub mod view;

#[cfg(test)]
mod tests;
