//! git's cached trees (the index's `TREE` extension), read node by node, and rewritten with
//! the folders above new entries invalidated.
//!
//! For every folder git has written a tree for, the extension keeps how many index entries
//! the folder covers and the tree's id, or -1 once an entry below it changed. `git add`
//! invalidates only the folders above the path it adds, and `git commit` writes a valid
//! folder's id as it stands: so a valid entry spares the hashing of the folder's files, for
//! git and for `ovn check --staged` alike. A write that adds entries keeps the extension with
//! the same invalidation, so neither has to hash a million files after it.
//!
//! Both sides read it through [`read`], which accepts only what git writes: one root, names
//! without `/`, counts in plain decimal, every subtree where its parent says. Anything else
//! and the extension is not used (a reader hashes; a writer drops it, which git allows).

use std::ops::Range;

use super::HASH;

/// One folder of the extension, in the order it is stored (a folder before its subfolders).
#[derive(Debug, PartialEq, Eq)]
pub(in crate::store) struct Node {
    /// The folder's repository-relative path (empty for the root).
    pub path: Vec<u8>,
    /// Entries the folder covers; `None` when invalid (stored as -1).
    pub count: Option<usize>,
    /// Its subfolders' count.
    pub subtrees: usize,
    /// The tree's id, when valid.
    pub id: Option<[u8; HASH]>,
    /// The node's parent, by its place in the list.
    pub parent: Option<usize>,
    /// The bytes of the node's own record in the extension's data.
    pub span: Range<usize>,
}

/// The nodes of the extension's `data`, or `None` when it does not read as git writes it.
/// Each node: its name (the root's empty), NUL, its entry count in ASCII (-1 when invalid),
/// a space, its count of subtrees, a newline, and when valid the tree's id; its subtrees
/// follow it, depth first.
pub(in crate::store) fn read(data: &[u8]) -> Option<Vec<Node>> {
    let mut nodes: Vec<Node> = Vec::new();
    // The nodes whose subtrees are still being read (by place), with how many are left.
    let mut open: Vec<(usize, usize)> = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let start = at;
        let find = |from: usize, byte: u8| -> Option<usize> {
            Some(from + data.get(from..)?.iter().position(|&b| b == byte)?)
        };
        let nul = find(at, 0)?;
        let space = find(nul + 1, b' ')?;
        let newline = find(space + 1, b'\n')?;
        let name = &data[at..nul];
        let count = match &data[nul + 1..space] {
            b"-1" => None,
            digits => Some(decimal(digits)?),
        };
        let subtrees = decimal(&data[space + 1..newline])?;
        at = newline + 1;
        let id = match count {
            Some(_) => {
                let id: [u8; HASH] = data.get(at..at + HASH)?.try_into().ok()?;
                at += HASH;
                Some(id)
            }
            None => None,
        };
        // Each node takes at least four bytes: never more subtrees than the data could hold.
        if subtrees > data.len() - at {
            return None;
        }
        let (parent, path) = match open.last_mut() {
            None if nodes.is_empty() && name.is_empty() => (None, Vec::new()),
            None => return None,
            Some((parent, left)) => {
                if name.is_empty() || name.contains(&b'/') || name == b"." || name == b".." {
                    return None;
                }
                *left -= 1;
                let mut path = nodes[*parent].path.clone();
                if !path.is_empty() {
                    path.push(b'/');
                }
                path.extend_from_slice(name);
                (Some(*parent), path)
            }
        };
        while open.last().is_some_and(|&(_, left)| left == 0) {
            open.pop();
        }
        if subtrees > 0 {
            open.push((nodes.len(), subtrees));
        }
        nodes.push(Node {
            path,
            count,
            subtrees,
            id,
            parent,
            span: start..at,
        });
    }
    (!nodes.is_empty() && open.is_empty()).then_some(nodes)
}

/// A count written in ASCII decimal, as git writes it (no sign, at most nine digits).
fn decimal(digits: &[u8]) -> Option<usize> {
    if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// The extension's `data` with every folder holding one of `paths` (sorted
/// repository-relative file paths) invalidated, as `git add` does: its count -1, its id
/// gone, its subfolders kept. `None` when the data does not read, or a new path is a folder
/// the extension has (a file replacing a folder: git drops that subtree; here the whole
/// extension is dropped instead, which git allows).
pub(super) fn invalidate(data: &[u8], paths: &[&[u8]]) -> Option<Vec<u8>> {
    let nodes = read(data)?;
    let mut out = Vec::with_capacity(data.len());
    for node in &nodes {
        let holds = |p: &&[u8]| {
            node.path.is_empty()
                || (p.len() > node.path.len()
                    && p.starts_with(&node.path)
                    && p[node.path.len()] == b'/')
        };
        if paths.contains(&node.path.as_slice()) {
            return None;
        }
        if node.count.is_some() && paths.iter().any(holds) {
            let name_end =
                node.span.start + data[node.span.clone()].iter().position(|&b| b == 0)?;
            out.extend_from_slice(&data[node.span.start..name_end]);
            out.extend_from_slice(format!("\0-1 {}\n", node.subtrees).as_bytes());
        } else {
            out.extend_from_slice(&data[node.span.clone()]);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The root (3 entries, 1 subtree) and `a` (2 entries): the bytes git writes.
    fn sample() -> Vec<u8> {
        let mut data = b"\x003 1\n".to_vec();
        data.extend_from_slice(&[1; HASH]);
        data.extend_from_slice(b"a\x002 0\n");
        data.extend_from_slice(&[2; HASH]);
        data
    }

    #[test]
    fn the_extension_reads_as_git_writes_it() {
        let nodes = read(&sample()).unwrap();
        assert_eq!(nodes.len(), 2);
        assert_eq!(nodes[1].path, b"a");
        assert_eq!(nodes[1].count, Some(2));
        assert_eq!(nodes[1].parent, Some(0));
        assert_eq!(nodes[1].id, Some([2; HASH]));
        // Damage of any kind: nothing is read.
        let data = sample();
        for cut in 0..data.len() {
            assert!(read(&data[..cut]).is_none(), "{cut}");
        }
        for bad in [
            &b"\x00+3 1\n"[..],
            b"\x003 9\n",
            b"x\x00-1 0\n",
            b"\x00-1 0\n\x00-1 0\n",
        ] {
            assert!(read(bad).is_none(), "{bad:?}");
        }
        let mut slash = b"\x00-1 1\n".to_vec();
        slash.extend_from_slice(b"a/b\x00-1 0\n");
        assert!(read(&slash).is_none());
    }

    #[test]
    fn only_the_folders_above_a_new_path_are_invalidated() {
        let data = sample();
        let out = invalidate(&data, &[b"b.toml"]).unwrap();
        let nodes = read(&out).unwrap();
        assert_eq!(nodes[0].count, None);
        assert_eq!(nodes[1].count, Some(2));
        let out = invalidate(&data, &[b"a/c.toml"]).unwrap();
        assert!(read(&out).unwrap().iter().all(|n| n.count.is_none()));
        // A file where the extension has a folder.
        assert!(invalidate(&data, &[b"a"]).is_none());
    }
}
