//! The lookup structure: one node per typed key, so a key press costs one
//! hash lookup per key typed so far.

use super::keys::format_keys;
use super::{Hint, Key, Lookup};
use crate::action::Action;
use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct Trie {
    children: HashMap<Key, Node>,
}

#[derive(Debug, Clone)]
enum Node {
    Leaf(Action),
    Branch(Trie),
}

impl Trie {
    /// From prefix-free bindings (layering guarantees it). Should a binding
    /// still be a prefix of another, the shorter one wins.
    pub fn build(bindings: &[(Vec<Key>, Action)]) -> Trie {
        let mut sorted: Vec<_> = bindings.iter().collect();
        sorted.sort_by_key(|(keys, _)| keys.len());
        let mut root = Trie::default();
        for (keys, action) in sorted {
            root.insert(keys, *action);
        }
        root
    }

    fn insert(&mut self, keys: &[Key], action: Action) {
        let Some((first, rest)) = keys.split_first() else {
            return;
        };
        if rest.is_empty() {
            self.children.entry(*first).or_insert(Node::Leaf(action));
            return;
        }
        let node = self
            .children
            .entry(*first)
            .or_insert_with(|| Node::Branch(Trie::default()));
        if let Node::Branch(sub) = node {
            sub.insert(rest, action);
        }
    }

    pub fn lookup(&self, keys: &[Key]) -> Lookup {
        let Some((first, rest)) = keys.split_first() else {
            return Lookup::Unbound;
        };
        match (self.children.get(first), rest.is_empty()) {
            (Some(Node::Leaf(action)), true) => Lookup::Action(*action),
            (Some(Node::Branch(sub)), true) => {
                let mut hints = Vec::new();
                sub.collect(&mut keys.to_vec(), &mut hints);
                hints.sort_by(|a, b| a.keys.cmp(&b.keys));
                Lookup::Pending(hints)
            }
            (Some(Node::Branch(sub)), false) => sub.lookup(rest),
            _ => Lookup::Unbound,
        }
    }

    fn collect(&self, prefix: &mut Vec<Key>, out: &mut Vec<Hint>) {
        for (key, node) in &self.children {
            prefix.push(*key);
            match node {
                Node::Leaf(action) => out.push(Hint {
                    keys: format_keys(prefix),
                    action: *action,
                }),
                Node::Branch(sub) => sub.collect(prefix, out),
            }
            prefix.pop();
        }
    }
}
