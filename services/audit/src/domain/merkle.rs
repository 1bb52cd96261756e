//! A Merkle log hashed exactly as RFC 6962 / RFC 9162 §2.1 say (SHA-256; leaves prefixed
//! 0x00, interior nodes 0x01; the tree split at the largest power of two below the size), with
//! inclusion and consistency proofs and their verification.

use ring::digest::{Context, SHA256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// `MTH({})`: the hash of an empty log, SHA-256 of the empty string.
pub fn empty_root() -> Hash {
    sha256(&[&[]])
}

/// `MTH({d})` = SHA-256(0x00 || d).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    sha256(&[&[0x00], entry])
}

/// SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    sha256(&[&[0x01], left, right])
}

fn sha256(parts: &[&[u8]]) -> Hash {
    let mut context = Context::new(&SHA256);
    for part in parts {
        context.update(part);
    }
    let mut hash = [0; 32];
    hash.copy_from_slice(context.finish().as_ref());
    hash
}

/// The largest power of two strictly below `n` (n ≥ 2): RFC 6962's split point.
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// Why a proof cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("tree size {size} is larger than the log ({len} records)")]
    SizeOutOfRange { size: u64, len: u64 },
    #[error("the first size {first} is larger than the second {second}")]
    SizesOutOfOrder { first: u64, second: u64 },
}

/// The leaves of a log with every complete subtree's hash kept, so that roots and proofs of any
/// size cost O(log n) hashes. `levels[l][i]` is the hash of leaves `[i·2^l, (i+1)·2^l)`.
#[derive(Debug, Clone, Default)]
pub struct MerkleTree {
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    pub fn new() -> Self {
        MerkleTree::default()
    }

    /// Number of leaves.
    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends a leaf hash (not the entry: see [`leaf_hash`]).
    pub fn push(&mut self, leaf: Hash) {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(leaf);
        let mut level = 0;
        while self.levels[level].len().is_multiple_of(2) {
            let nodes = &self.levels[level];
            let parent = node_hash(&nodes[nodes.len() - 2], &nodes[nodes.len() - 1]);
            if self.levels.len() == level + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[level + 1].push(parent);
            level += 1;
        }
    }

    /// Forgets every leaf from `len` on (an append that did not commit).
    pub fn truncate(&mut self, len: u64) {
        for (level, nodes) in self.levels.iter_mut().enumerate() {
            nodes.truncate((len >> level) as usize);
        }
        while self.levels.last().is_some_and(Vec::is_empty) {
            self.levels.pop();
        }
    }

    /// The leaf hash at `index`.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.levels
            .first()?
            .get(usize::try_from(index).ok()?)
            .copied()
    }

    /// The root of the log's first `size` leaves.
    pub fn root(&self, size: u64) -> Result<Hash, ProofError> {
        self.check_size(size)?;
        Ok(self.range_hash(0, size))
    }

    /// `MTH(D[start:end])`. Every range RFC 6962's recursion asks for starts at a multiple of
    /// its largest complete subtree, so that subtree is read, not recomputed.
    fn range_hash(&self, start: u64, end: u64) -> Hash {
        let n = end - start;
        if n == 0 {
            return empty_root();
        }
        if n.is_power_of_two() && start.is_multiple_of(n) {
            let level = n.trailing_zeros() as usize;
            return self.levels[level][(start / n) as usize];
        }
        let k = split(n);
        node_hash(
            &self.range_hash(start, start + k),
            &self.range_hash(start + k, end),
        )
    }

    /// RFC 6962 §2.1.1 `PATH(index, D[size])`: the audit path of leaf `index` in the log of
    /// `size` leaves, from the leaf up.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(size)?;
        if index >= size {
            return Err(ProofError::IndexOutOfRange { index, size });
        }
        let mut proof = Vec::new();
        self.path(index, 0, size, &mut proof);
        Ok(proof)
    }

    fn path(&self, index: u64, start: u64, end: u64, proof: &mut Vec<Hash>) {
        let n = end - start;
        if n <= 1 {
            return;
        }
        let k = split(n);
        if index < start + k {
            self.path(index, start, start + k, proof);
            proof.push(self.range_hash(start + k, end));
        } else {
            self.path(index, start + k, end, proof);
            proof.push(self.range_hash(start, start + k));
        }
    }

    /// RFC 6962 §2.1.2 `PROOF(first, D[second])`: proof that the log of `first` leaves is a
    /// prefix of the log of `second` leaves. Empty when `first` is 0 or equals `second`.
    pub fn consistency_proof(&self, first: u64, second: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(second)?;
        if first > second {
            return Err(ProofError::SizesOutOfOrder { first, second });
        }
        let mut proof = Vec::new();
        if first > 0 && first < second {
            self.subproof(first, 0, second, true, &mut proof);
        }
        Ok(proof)
    }

    fn subproof(&self, first: u64, start: u64, end: u64, whole: bool, proof: &mut Vec<Hash>) {
        let n = end - start;
        if first == n {
            if !whole {
                proof.push(self.range_hash(start, end));
            }
            return;
        }
        let k = split(n);
        if first <= k {
            self.subproof(first, start, start + k, whole, proof);
            proof.push(self.range_hash(start + k, end));
        } else {
            self.subproof(first - k, start + k, end, false, proof);
            proof.push(self.range_hash(start, start + k));
        }
    }

    fn check_size(&self, size: u64) -> Result<(), ProofError> {
        if size > self.len() {
            return Err(ProofError::SizeOutOfRange {
                size,
                len: self.len(),
            });
        }
        Ok(())
    }
}

/// Shifts `fn_` and `sn` right together until `fn_`'s lowest bit is set or it is 0.
fn shift_to_set_bit(fn_: &mut u64, sn: &mut u64) {
    while *fn_ & 1 == 0 && *fn_ != 0 {
        *fn_ >>= 1;
        *sn >>= 1;
    }
}

/// RFC 9162 §2.1.3.2: whether `proof` shows the leaf `leaf` at `index` in the log of `size`
/// leaves whose root is `root`.
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                shift_to_set_bit(&mut fn_, &mut sn);
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && r == *root
}

/// RFC 9162 §2.1.4.2: whether `proof` shows that the log of `first` leaves with root
/// `first_root` is a prefix of the log of `second` leaves with root `second_root`.
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &Hash,
    second_root: &Hash,
    proof: &[Hash],
) -> bool {
    if first > second {
        return false;
    }
    if first == second {
        return proof.is_empty() && first_root == second_root;
    }
    if first == 0 {
        return proof.is_empty() && *first_root == empty_root();
    }
    if proof.is_empty() {
        return false;
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if first.is_power_of_two() {
        path.push(*first_root);
    }
    path.extend_from_slice(proof);
    let (mut fn_, mut sn) = (first - 1, second - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                shift_to_set_bit(&mut fn_, &mut sn);
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    fr == *first_root && sr == *second_root && sn == 0
}

#[cfg(test)]
mod tests;
