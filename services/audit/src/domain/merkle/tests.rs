//! Known-answer tests from RFC 6962's reference vectors (as published with Certificate
//! Transparency's implementations), then properties over every shape of tree up to 70 leaves,
//! including forged proofs that must be rejected.

use super::*;

fn unhex(text: &str) -> Hash {
    let bytes: Vec<u8> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect();
    bytes.try_into().unwrap()
}

fn entries() -> Vec<Vec<u8>> {
    [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
    .iter()
    .map(|h| {
        (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
            .collect()
    })
    .collect()
}

const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn reference_tree() -> MerkleTree {
    let mut tree = MerkleTree::new();
    for entry in entries() {
        tree.push(leaf_hash(&entry));
    }
    tree
}

#[test]
fn roots_match_rfc_6962_for_every_size() {
    let tree = reference_tree();
    assert_eq!(empty_root(), unhex(ROOTS[0]));
    for (size, root) in ROOTS.iter().enumerate() {
        assert_eq!(tree.root(size as u64).unwrap(), unhex(root), "size {size}");
    }
}

#[test]
fn inclusion_proofs_match_the_reference() {
    let tree = reference_tree();
    let cases: [(u64, &[&str]); 2] = [
        (
            0,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ];
    let root = unhex(ROOTS[8]);
    for (index, expected) in cases {
        let expected: Vec<Hash> = expected.iter().map(|h| unhex(h)).collect();
        assert_eq!(tree.inclusion_proof(index, 8).unwrap(), expected);
        let leaf = tree.leaf(index).unwrap();
        assert!(verify_inclusion(index, 8, &leaf, &expected, &root));
    }
}

#[test]
fn consistency_proofs_match_the_reference() {
    let tree = reference_tree();
    let cases: [(u64, &[&str]); 3] = [
        (
            1,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            2,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ];
    for (first, expected) in cases {
        let expected: Vec<Hash> = expected.iter().map(|h| unhex(h)).collect();
        assert_eq!(
            tree.consistency_proof(first, 8).unwrap(),
            expected,
            "{first}"
        );
        assert!(verify_consistency(
            first,
            8,
            &unhex(ROOTS[first as usize]),
            &unhex(ROOTS[8]),
            &expected
        ));
    }
}

fn big_tree(n: u64) -> MerkleTree {
    let mut tree = MerkleTree::new();
    for i in 0..n {
        tree.push(leaf_hash(&i.to_be_bytes()));
    }
    tree
}

/// Roots from the stored subtrees agree with the plain RFC 6962 recursion.
fn naive_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n as u64) as usize;
            node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
        }
    }
}

#[test]
fn every_root_agrees_with_the_plain_recursion() {
    let tree = big_tree(70);
    let leaves: Vec<Hash> = (0..70).map(|i| tree.leaf(i).unwrap()).collect();
    for size in 0..=70 {
        assert_eq!(
            tree.root(size).unwrap(),
            naive_root(&leaves[..size as usize])
        );
    }
}

#[test]
fn every_inclusion_proof_verifies_and_no_forgery_does() {
    let tree = big_tree(70);
    for size in 1..=70 {
        let root = tree.root(size).unwrap();
        for index in 0..size {
            let leaf = tree.leaf(index).unwrap();
            let proof = tree.inclusion_proof(index, size).unwrap();
            assert!(verify_inclusion(index, size, &leaf, &proof, &root));
            // A changed root, size, index, leaf or path must all fail.
            let mut other_root = root;
            other_root[0] ^= 1;
            assert!(!verify_inclusion(index, size, &leaf, &proof, &other_root));
            // (A proof for size n may also "verify" for a larger claimed size with the same
            // root: RFC 9162 binds size to root only through the signed checkpoint.)
            if size > 1 {
                let other_index = (index + 1) % size;
                assert!(!verify_inclusion(other_index, size, &leaf, &proof, &root));
                assert!(!verify_inclusion(
                    index,
                    size,
                    &tree.leaf(other_index).unwrap(),
                    &proof,
                    &root
                ));
            }
            assert!(!verify_inclusion(size, size, &leaf, &proof, &root));
            if let Some(first) = proof.first() {
                let mut flipped = proof.clone();
                flipped[0][31] ^= 0x80;
                assert!(!verify_inclusion(index, size, &leaf, &flipped, &root));
                assert!(!verify_inclusion(index, size, &leaf, &proof[1..], &root));
                let mut longer = proof.clone();
                longer.push(*first);
                assert!(!verify_inclusion(index, size, &leaf, &longer, &root));
            }
        }
    }
}

#[test]
fn every_consistency_proof_verifies_and_no_forgery_does() {
    let tree = big_tree(70);
    for second in 1..=70 {
        let second_root = tree.root(second).unwrap();
        for first in 1..second {
            let first_root = tree.root(first).unwrap();
            let proof = tree.consistency_proof(first, second).unwrap();
            assert!(verify_consistency(
                first,
                second,
                &first_root,
                &second_root,
                &proof
            ));
            let mut changed = second_root;
            changed[5] ^= 1;
            assert!(!verify_consistency(
                first,
                second,
                &first_root,
                &changed,
                &proof
            ));
            assert!(!verify_consistency(
                first,
                second,
                &changed,
                &second_root,
                &proof
            ));
            assert!(
                !verify_consistency(first + 1, second, &first_root, &second_root, &proof)
                    || tree.consistency_proof(first + 1, second).unwrap() == proof
            );
            assert!(!verify_consistency(
                first,
                second,
                &first_root,
                &second_root,
                &proof[1..]
            ));
            let mut flipped = proof.clone();
            flipped[0][0] ^= 1;
            assert!(!verify_consistency(
                first,
                second,
                &first_root,
                &second_root,
                &flipped
            ));
            let mut longer = proof.clone();
            longer.push(proof[0]);
            assert!(!verify_consistency(
                first,
                second,
                &first_root,
                &second_root,
                &longer
            ));
        }
    }
}

#[test]
fn degenerate_consistency_cases() {
    let tree = big_tree(8);
    let root4 = tree.root(4).unwrap();
    let root5 = tree.root(5).unwrap();
    assert!(verify_consistency(4, 4, &root4, &root4, &[]));
    assert!(!verify_consistency(4, 4, &root4, &root5, &[]));
    assert!(!verify_consistency(4, 4, &root4, &root4, &[root4]));
    assert!(verify_consistency(
        0,
        8,
        &empty_root(),
        &tree.root(8).unwrap(),
        &[]
    ));
    assert!(!verify_consistency(
        0,
        8,
        &root4,
        &tree.root(8).unwrap(),
        &[]
    ));
    assert!(!verify_consistency(5, 4, &root5, &root4, &[]));
}

#[test]
fn proofs_beyond_the_log_are_refused() {
    let tree = big_tree(5);
    assert_eq!(
        tree.inclusion_proof(5, 5),
        Err(ProofError::IndexOutOfRange { index: 5, size: 5 })
    );
    assert_eq!(
        tree.root(6),
        Err(ProofError::SizeOutOfRange { size: 6, len: 5 })
    );
    assert_eq!(
        tree.consistency_proof(4, 3),
        Err(ProofError::SizesOutOfOrder {
            first: 4,
            second: 3
        })
    );
}

#[test]
fn truncating_forgets_leaves_as_if_never_pushed() {
    let mut tree = big_tree(37);
    let expected = big_tree(21);
    tree.truncate(21);
    assert_eq!(tree.len(), 21);
    assert_eq!(tree.root(21).unwrap(), expected.root(21).unwrap());
    tree.push(leaf_hash(&21u64.to_be_bytes()));
    assert_eq!(tree.root(22).unwrap(), big_tree(22).root(22).unwrap());
    tree.truncate(0);
    assert!(tree.is_empty());
}
