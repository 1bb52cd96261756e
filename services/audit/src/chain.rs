//! The audit log as the service keeps it: appends serialised by the store's write lock, each
//! record signed as part of the head it creates, checkpoints published every N records or T
//! seconds, and proofs served from an in-memory copy of the tree's hashes that is kept in step
//! with the store (other replicas may append too).

use std::time::Duration;

use sentinel_platform::time::now_micros;

use sqlx::{Any, Transaction};
use tokio::sync::Mutex;

use crate::{
    domain::{
        checkpoint::{Checkpoint, LogSigner, LogVerifier},
        merkle::{Hash, MerkleTree, ProofError},
        record::{AuditEntry, AuditRecord},
        verify::{StoredRecord, Verdict},
    },
    storage::{AuditStore, Head, StorageError},
    witness::WitnessFile,
};

#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Proof(#[from] ProofError),
    /// The stored log does not match its own signatures: appending onto it would be appending
    /// onto a tampered history, so the service refuses (fail closed).
    #[error(
        "the stored audit log does not match its signed head at size {size}: run `sentinel audit verify`"
    )]
    Tampered { size: u64 },
    #[error("no audit record {0}")]
    NotFound(u64),
    /// The stored record's content no longer hashes to its leaf in the log.
    #[error("audit record {0}'s content does not match the log: run `sentinel audit verify`")]
    ContentChanged(u64),
}

impl From<sqlx::Error> for ChainError {
    fn from(err: sqlx::Error) -> Self {
        ChainError::Storage(StorageError::Database(err))
    }
}

/// A log head with its signature, as a C2SP signed note.
#[derive(Debug, Clone)]
pub struct SignedHead {
    pub checkpoint: Checkpoint,
    pub note: String,
}

/// When to publish a checkpoint.
#[derive(Debug, Clone, Copy)]
pub struct Cadence {
    pub every_records: u64,
    pub every: Duration,
}

#[derive(Debug)]
pub struct AuditChain {
    store: AuditStore,
    signer: LogSigner,
    verifier: LogVerifier,
    cadence: Cadence,
    tree: Mutex<MerkleTree>,
    witness: Option<WitnessFile>,
    /// Why the log cannot take records now (tampered, or its store failing), if it cannot: the
    /// service still starts and serves reads, and reports itself not serving.
    out: std::sync::Mutex<Option<String>>,
}

impl AuditChain {
    /// Opens the chain over `store`, loading the tree's hashes and checking that the stored
    /// head is the one this key signed. A log that fails the check (or a store that fails) does
    /// not stop the start — alerting must not wait on the audit log: the chain opens out of
    /// service, refusing appends, until [`AuditChain::recheck`] finds it whole again.
    pub async fn open(store: AuditStore, signer: LogSigner, cadence: Cadence) -> Self {
        let verifier = signer.verifier();
        let chain = AuditChain {
            store,
            signer,
            verifier,
            cadence,
            tree: Mutex::new(MerkleTree::new()),
            witness: None,
            out: std::sync::Mutex::new(None),
        };
        chain.recheck().await;
        chain
    }

    /// Why the log cannot take records now, if it cannot.
    pub fn problem(&self) -> Option<String> {
        self.out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Checks the stored log against its signed head again (after an outage or a repair);
    /// whether it can take records.
    pub async fn recheck(&self) -> bool {
        let result = self.catch_up().await;
        self.note(&result);
        result.is_ok()
    }

    /// Keeps what an attempt on the store says about the log's state, logging a change once.
    fn note<T>(&self, result: &Result<T, ChainError>) {
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match (result, out.is_some()) {
            (Ok(_), true) => {
                tracing::info!("the audit log takes records again");
                *out = None;
            }
            (Err(err), false) => {
                tracing::error!(error = %err, "the audit log cannot take records: clinical work goes on, its records are kept by the services");
                *out = Some(format!("the audit log cannot take records: {err}"));
            }
            _ => {}
        }
    }

    /// Witnesses every checkpoint published from now on in `witness` too.
    pub fn witnessed_by(mut self, witness: Option<WitnessFile>) -> Self {
        self.witness = witness;
        self
    }

    async fn witness(&self, published: Option<(u64, String)>) {
        if let (Some(witness), Some((size, note))) = (&self.witness, published) {
            witness.witness(size, &note).await;
        }
    }

    pub fn verifier(&self) -> &LogVerifier {
        &self.verifier
    }

    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    pub fn store(&self) -> &AuditStore {
        &self.store
    }

    /// Appends `entries` in one transaction, in order, and returns them as stored. Nothing is
    /// returned before the transaction commits.
    pub async fn append(&self, entries: &[AuditEntry]) -> Result<Vec<StoredRecord>, ChainError> {
        let result = self.append_now(entries).await;
        self.note(&result);
        result
    }

    async fn append_now(&self, entries: &[AuditEntry]) -> Result<Vec<StoredRecord>, ChainError> {
        let (mut tx, head) = self.store.begin_append().await?;
        let mut tree = self.tree.lock().await;
        self.sync(&mut tree, &mut tx, &head).await?;
        let start = head.size;
        let mut recorded_at = now_micros().max(head.last_recorded_at);
        let mut stored = Vec::with_capacity(entries.len());
        let mut last_head = None;
        for (offset, entry) in entries.iter().enumerate() {
            // Never earlier than the record before: a clock stepping back must not make an
            // honest log look reordered.
            recorded_at = recorded_at.max(head.last_recorded_at);
            let record = AuditRecord {
                sequence: start + offset as u64,
                recorded_at,
                entry: entry.clone(),
            };
            let leaf = record.leaf_hash();
            tree.push(leaf);
            let checkpoint = self.head_of(&tree, record.sequence + 1)?;
            let signature = self.signer.sign(&checkpoint);
            let record = StoredRecord {
                record,
                leaf_hash: leaf.to_vec(),
                signature,
            };
            if let Err(err) = AuditStore::insert(&mut tx, &record).await {
                tree.truncate(start);
                return Err(err.into());
            }
            last_head = Some((checkpoint, record.signature.clone()));
            stored.push(record);
        }
        let mut published = None;
        if let Some((checkpoint, signature)) = &last_head {
            let due = checkpoint.size - head.last_checkpoint_size >= self.cadence.every_records
                || self.time_is_due(&head, recorded_at);
            if due {
                let note = self.signer.note(checkpoint, signature);
                if let Err(err) = AuditStore::insert_checkpoint(
                    &mut tx,
                    checkpoint.size,
                    &checkpoint.root,
                    &note,
                    recorded_at,
                )
                .await
                {
                    tree.truncate(start);
                    return Err(err.into());
                }
                published = Some((checkpoint.size, note));
            }
        }
        if let Err(err) = tx.commit().await {
            tree.truncate(start);
            return Err(err.into());
        }
        drop(tree);
        self.witness(published).await;
        Ok(stored)
    }

    fn time_is_due(&self, head: &Head, now: i64) -> bool {
        let every = i64::try_from(self.cadence.every.as_micros()).unwrap_or(i64::MAX);
        now.saturating_sub(head.last_checkpoint_at) >= every
    }

    /// Publishes a checkpoint of the current head if records were appended since the last one
    /// and the time has come. Returns the size published, if any.
    pub async fn publish_if_due(&self) -> Result<Option<u64>, ChainError> {
        let (mut tx, head) = self.store.begin_append().await?;
        let now = now_micros();
        if head.size == head.last_checkpoint_size || !self.time_is_due(&head, now) {
            return Ok(None);
        }
        let mut tree = self.tree.lock().await;
        self.sync(&mut tree, &mut tx, &head).await?;
        let checkpoint = self.head_of(&tree, head.size)?;
        let note = self.verifier.note(&checkpoint, &head.last_signature);
        AuditStore::insert_checkpoint(&mut tx, head.size, &checkpoint.root, &note, now).await?;
        tx.commit().await?;
        drop(tree);
        self.witness(Some((head.size, note))).await;
        Ok(Some(head.size))
    }

    fn head_of(&self, tree: &MerkleTree, size: u64) -> Result<Checkpoint, ChainError> {
        Ok(Checkpoint {
            origin: self.signer.name().to_owned(),
            size,
            root: tree.root(size)?,
        })
    }

    /// Brings the in-memory tree to the stored head, and checks that the head is the one
    /// signed. Records appended by other replicas are loaded here.
    async fn sync(
        &self,
        tree: &mut MerkleTree,
        tx: &mut Transaction<'static, Any>,
        head: &Head,
    ) -> Result<(), ChainError> {
        if tree.len() > head.size {
            // The store lost records we appended: only tampering or a restored backup does that.
            return Err(ChainError::Tampered { size: head.size });
        }
        if tree.len() == head.size {
            return Ok(());
        }
        let from = tree.len();
        for (sequence, leaf) in AuditStore::leaf_hashes(tx, from, head.size).await? {
            let leaf: Hash = leaf
                .try_into()
                .map_err(|_| ChainError::Tampered { size: sequence + 1 })?;
            if sequence != tree.len() {
                tree.truncate(from);
                return Err(ChainError::Tampered { size: tree.len() });
            }
            tree.push(leaf);
        }
        let signed = self.head_of(tree, head.size)?;
        if tree.len() != head.size || !self.verifier.verify(&signed, &head.last_signature) {
            tree.truncate(from);
            return Err(ChainError::Tampered { size: head.size });
        }
        Ok(())
    }

    /// Syncs the tree with the store outside an append (for proofs), returning its size.
    async fn catch_up(&self) -> Result<u64, ChainError> {
        let mut tx = self.store.pool().begin().await?;
        let head = crate::storage::read_head_in(&mut tx).await?;
        let mut tree = self.tree.lock().await;
        self.sync(&mut tree, &mut tx, &head).await?;
        tx.commit().await?;
        Ok(tree.len())
    }

    /// The signed head of the log at `size` (the current size when 0).
    pub async fn signed_head(&self, size: u64) -> Result<SignedHead, ChainError> {
        let current = self.catch_up().await?;
        let size = if size == 0 { current } else { size };
        if size == 0 || size > current {
            return Err(ProofError::SizeOutOfRange { size, len: current }.into());
        }
        let checkpoint = {
            let tree = self.tree.lock().await;
            self.head_of(&tree, size)?
        };
        let signature = self
            .store
            .signature(size - 1)
            .await?
            .ok_or(ChainError::NotFound(size - 1))?;
        let note = self.verifier.note(&checkpoint, &signature);
        Ok(SignedHead { checkpoint, note })
    }

    /// The leaf hash and audit path of record `sequence` in the log of `size`, with that
    /// log's signed head.
    pub async fn prove_inclusion(
        &self,
        sequence: u64,
        size: u64,
    ) -> Result<(StoredRecord, Vec<Hash>, SignedHead), ChainError> {
        let head = self.signed_head(size).await?;
        let (path, leaf) = {
            let tree = self.tree.lock().await;
            let path = tree.inclusion_proof(sequence, head.checkpoint.size)?;
            (
                path,
                tree.leaf(sequence).ok_or(ChainError::NotFound(sequence))?,
            )
        };
        let stored = self
            .store
            .get(sequence)
            .await?
            .ok_or(ChainError::NotFound(sequence))?;
        // The proof is of the content a reader is shown, re-hashed here: never of a stored
        // leaf hash that tampered content would sit beside.
        if stored.record.leaf_hash() != leaf {
            return Err(ChainError::ContentChanged(sequence));
        }
        Ok((stored, path, head))
    }

    /// The proof that the log of `first` records is a prefix of the log of `second`.
    pub async fn prove_consistency(
        &self,
        first: u64,
        second: u64,
    ) -> Result<(Vec<Hash>, SignedHead, SignedHead), ChainError> {
        let second = self.signed_head(second).await?;
        if first == 0 || first > second.checkpoint.size {
            return Err(ProofError::SizesOutOfOrder {
                first,
                second: second.checkpoint.size,
            }
            .into());
        }
        let first = self.signed_head(first).await?;
        let tree = self.tree.lock().await;
        let path = tree.consistency_proof(first.checkpoint.size, second.checkpoint.size)?;
        Ok((path, first, second))
    }

    /// Checks the stored log from its records and signatures alone (the in-memory tree is not
    /// trusted), signatures from `from` to `to` inclusive. Returns the verdict and the number
    /// of records read.
    pub async fn verify(
        &self,
        from: u64,
        to: Option<u64>,
        trusted: Option<Checkpoint>,
    ) -> Result<(Verdict, u64), ChainError> {
        crate::export::verify_store(&self.store, &self.verifier, from, to, trusted)
            .await
            .map_err(|err| match err {
                crate::export::ExportError::Storage(err) => ChainError::Storage(err),
                other => ChainError::Storage(StorageError::Corrupt {
                    sequence: -1,
                    problem: other.to_string(),
                }),
            })
    }
}
