//! What every pane draws with, shared once: the pane frame (border, title,
//! focus, tab line), the cursor and paging helper, the table of rows
//! (selection, dimming) and the sparkline.

pub mod cursor;
pub mod frame;
pub mod sparkline;
pub mod table;

pub use cursor::{movement, StableCursor};
