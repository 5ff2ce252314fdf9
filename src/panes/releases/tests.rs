//! The releases pane's pure parts: plans, gates, persistence, the
//! timeline and the matrix, and their snapshots.
