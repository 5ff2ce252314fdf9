//! The one cursor and paging helper of every list pane. Lists re-sort and
//! re-rank as facts change; the cursor follows the selected item's identity,
//! not its position, so the row under the cursor never changes by itself.
//! The drawn window (first row, rows per page) is kept beside it so that
//! scrolling is stable and page keys move by what the pane showed.

use crate::action::Action;
use std::cell::Cell;

/// A cursor over a list of items identified by `Id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StableCursor<Id> {
    pub cursor: usize,
    pub selected: Option<Id>,
    /// First visible row; written while drawing so scrolling is stable.
    pub offset: Cell<usize>,
    /// Rows the pane showed last frame (for page up/down).
    pub page: Cell<usize>,
}

impl<Id> Default for StableCursor<Id> {
    fn default() -> Self {
        StableCursor {
            cursor: 0,
            selected: None,
            offset: Cell::new(0),
            page: Cell::new(0),
        }
    }
}

/// How far a movement action moves a cursor, given a page of `page` rows;
/// `None` for anything that is not a movement.
pub fn movement(action: Action, page: usize) -> Option<isize> {
    let page = page.max(1) as isize;
    Some(match action {
        Action::Up => -1,
        Action::Down => 1,
        Action::PageUp => -page,
        Action::PageDown => page,
        Action::Top => isize::MIN / 2,
        Action::Bottom => isize::MAX / 2,
        _ => return None,
    })
}

impl<Id> StableCursor<Id> {
    /// The first row to draw for a list of `len` items with `rows` visible:
    /// the offset stays put while the cursor is on screen. Records the
    /// window for the next frame and for page keys.
    pub fn window(&self, len: usize, rows: usize) -> usize {
        let cursor = self.cursor.min(len.saturating_sub(1));
        let mut offset = self.offset.get().min(len.saturating_sub(rows));
        if cursor < offset {
            offset = cursor;
        } else if cursor >= offset + rows {
            offset = cursor + 1 - rows;
        }
        self.offset.set(offset);
        self.page.set(rows);
        offset
    }

    /// What a list pane draws: the cursor (clamped to the list) and the
    /// visible items with their index, `rows` at most, from `window`.
    pub fn visible<'a, T>(
        &self,
        items: &'a [T],
        rows: usize,
    ) -> (usize, impl Iterator<Item = (usize, &'a T)> + 'a) {
        let cursor = self.cursor.min(items.len().saturating_sub(1));
        let offset = self.window(items.len(), rows);
        (cursor, items.iter().enumerate().skip(offset).take(rows))
    }
}

impl<Id: Clone + PartialEq> StableCursor<Id> {
    /// After the list changed: back onto the selected item if it is still
    /// there, else the same position clamped (the next item moves up).
    pub fn sync(&mut self, ids: &[Id]) {
        if ids.is_empty() {
            self.cursor = 0;
            self.selected = None;
            return;
        }
        if let Some(pos) = self
            .selected
            .as_ref()
            .and_then(|s| ids.iter().position(|i| i == s))
        {
            self.cursor = pos;
        } else {
            self.cursor = self.cursor.min(ids.len() - 1);
        }
        self.selected = Some(ids[self.cursor].clone());
    }

    /// Moves by `delta` rows (clamped) and selects what is there.
    pub fn move_by(&mut self, delta: isize, ids: &[Id]) {
        if ids.is_empty() {
            return self.sync(ids);
        }
        let max = ids.len() - 1;
        self.cursor = self.cursor.saturating_add_signed(delta).min(max);
        self.selected = Some(ids[self.cursor].clone());
    }

    pub fn top(&mut self, ids: &[Id]) {
        self.move_by(isize::MIN, ids);
    }

    pub fn bottom(&mut self, ids: &[Id]) {
        self.move_by(isize::MAX, ids);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_follows_the_item_through_reranking() {
        let mut c = StableCursor::default();
        c.sync(&["a", "b", "c"]);
        assert_eq!((c.cursor, c.selected), (0, Some("a")));
        c.move_by(1, &["a", "b", "c"]);
        assert_eq!(c.selected, Some("b"));
        // a new item ranks above: the cursor moves with "b"
        c.sync(&["x", "a", "b", "c"]);
        assert_eq!((c.cursor, c.selected), (2, Some("b")));
        // "b" recovers and drops off: the cursor stays in place
        c.sync(&["x", "a", "c"]);
        assert_eq!((c.cursor, c.selected), (2, Some("c")));
        c.sync(&["x"]);
        assert_eq!((c.cursor, c.selected), (0, Some("x")));
        c.sync(&[]);
        assert_eq!((c.cursor, c.selected), (0, None));
    }

    #[test]
    fn moves_clamp_at_both_ends() {
        let ids = [1, 2, 3];
        let mut c = StableCursor::default();
        c.move_by(-5, &ids);
        assert_eq!(c.cursor, 0);
        c.bottom(&ids);
        assert_eq!((c.cursor, c.selected), (2, Some(3)));
        c.move_by(10, &ids);
        assert_eq!(c.cursor, 2);
        c.top(&ids);
        assert_eq!(c.selected, Some(1));
    }

    #[test]
    fn window_scrolls_only_when_the_cursor_leaves_it() {
        let ids: Vec<u32> = (0..100).collect();
        let mut c = StableCursor::default();
        c.sync(&ids);
        assert_eq!(c.window(100, 10), 0);
        c.move_by(12, &ids);
        assert_eq!(c.window(100, 10), 3);
        c.move_by(-2, &ids);
        assert_eq!(c.window(100, 10), 3, "still on screen: no scroll");
        c.move_by(-8, &ids);
        assert_eq!(c.window(100, 10), 2);
        assert_eq!(c.page.get(), 10);
        assert_eq!(movement(Action::PageDown, c.page.get()), Some(10));
        assert_eq!(movement(Action::Select, 10), None);
    }
}
