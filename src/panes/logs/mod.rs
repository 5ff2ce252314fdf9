//! The logs pane: live, merged, structured tails of many pods across
//! regions, bounded in bytes and honest about what it dropped.
//! `line.rs` (an entry: origin, instant, safe text, parsed JSON),
//! `stream.rs` (multi-line assembly, resume without gap or duplicate),
//! `follow.rs` (one container's stream: request, reconnect, end),
//! `merge.rs` (time order across streams with a reorder window),
//! `buffer.rs` (the byte-bounded ring, saving), `filter.rs` (include,
//! exclude, level, field, highlight, search), `es.rs` (history from each
//! region's Elasticsearch).

pub mod buffer;
pub mod es;
pub mod filter;
pub mod follow;
pub mod line;
pub mod merge;
pub mod state;
pub mod stream;
pub mod view;
