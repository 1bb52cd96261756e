//! Proofs as a client holds them: the JSON of a `ProveInclusion` or `ProveConsistency` answer in
//! the proto3 JSON mapping (what grpcurl prints), read against Sentinel's own descriptors and
//! checked offline with the log's public key alone (`sentinel audit verify-proof`).

use prost_reflect::{DescriptorPool, DynamicMessage};
use sentinel_contract::audit::v1 as pb;

use crate::domain::{
    checkpoint::{Checkpoint, LogVerifier},
    merkle::Hash,
    proof::{check_consistency, check_inclusion},
};

/// Why a proof file was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum ProofFileError {
    /// Not the JSON of the message: a usage problem, not a verdict.
    #[error("not a {message} in JSON: {problem}")]
    Unreadable {
        message: &'static str,
        problem: String,
    },
    /// Read, and it does not hold.
    #[error(transparent)]
    Invalid(#[from] crate::domain::proof::ProofProblem),
}

/// What a proof that holds proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proven {
    Included {
        sequence: u64,
        head: Checkpoint,
    },
    Consistent {
        first: Checkpoint,
        second: Checkpoint,
    },
}

/// Checks the JSON of an `InclusionProof`: the record it carries, re-hashed, is in the log of
/// its signed checkpoint.
pub fn verify_inclusion(json: &str, verifier: &LogVerifier) -> Result<Proven, ProofFileError> {
    const MESSAGE: &str = "sentinel.audit.v1.InclusionProof";
    let proof: pb::InclusionProof = from_json(MESSAGE, json)?;
    let unreadable = |problem: &str| ProofFileError::Unreadable {
        message: MESSAGE,
        problem: problem.to_owned(),
    };
    let record = proof
        .record
        .ok_or_else(|| unreadable("it carries no record"))?;
    let record = crate::grpc::audit_record(record).map_err(|err| unreadable(&err.to_string()))?;
    let note = proof.checkpoint.map(|c| c.signed_note).unwrap_or_default();
    let path = hashes(&proof.path).ok_or_else(|| unreadable("a path hash is not 32 bytes"))?;
    let head = check_inclusion(verifier, &record, proof.sequence, &path, &note)?;
    Ok(Proven::Included {
        sequence: proof.sequence,
        head,
    })
}

/// Checks the JSON of a `ConsistencyProof`: its first checkpoint's log is a prefix of its
/// second's.
pub fn verify_consistency(json: &str, verifier: &LogVerifier) -> Result<Proven, ProofFileError> {
    const MESSAGE: &str = "sentinel.audit.v1.ConsistencyProof";
    let proof: pb::ConsistencyProof = from_json(MESSAGE, json)?;
    let path = hashes(&proof.path).ok_or_else(|| ProofFileError::Unreadable {
        message: MESSAGE,
        problem: "a path hash is not 32 bytes".to_owned(),
    })?;
    let note = |c: Option<pb::Checkpoint>| c.map(|c| c.signed_note).unwrap_or_default();
    let (first, second) =
        check_consistency(verifier, &path, &note(proof.first), &note(proof.second))?;
    Ok(Proven::Consistent { first, second })
}

fn hashes(path: &[Vec<u8>]) -> Option<Vec<Hash>> {
    path.iter()
        .map(|h| Hash::try_from(h.as_slice()).ok())
        .collect()
}

/// `json` as message `name` of Sentinel's contract, by the proto3 JSON mapping.
fn from_json<T: prost::Message + Default>(
    name: &'static str,
    json: &str,
) -> Result<T, ProofFileError> {
    let unreadable = |problem: String| ProofFileError::Unreadable {
        message: name,
        problem,
    };
    let pool = DescriptorPool::decode(sentinel_contract::FILE_DESCRIPTOR_SET)
        .map_err(|err| unreadable(err.to_string()))?;
    let descriptor = pool
        .get_message_by_name(name)
        .ok_or_else(|| unreadable("unknown message".to_owned()))?;
    let mut json = serde_json::Deserializer::from_str(json);
    let message = DynamicMessage::deserialize(descriptor, &mut json)
        .map_err(|err| unreadable(err.to_string()))?;
    json.end().map_err(|err| unreadable(err.to_string()))?;
    message
        .transcode_to()
        .map_err(|err| unreadable(err.to_string()))
}
