//! Cursor state for the incident lists. The lists re-rank as facts change;
//! the cursor follows the selected item's identity, not its position, so
//! the row under the cursor never changes by itself.

/// A cursor over a list of items identified by `Id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StableCursor<Id> {
    pub cursor: usize,
    pub selected: Option<Id>,
}

impl<Id> Default for StableCursor<Id> {
    fn default() -> Self {
        StableCursor {
            cursor: 0,
            selected: None,
        }
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
}
