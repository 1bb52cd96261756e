//! Checkpoints in the C2SP signed-note format (c2sp.org/tlog-checkpoint, c2sp.org/signed-note):
//!
//! ```text
//! <origin>
//! <tree size>
//! <base64 root hash>
//!
//! — <key name> <base64(key hash ‖ Ed25519 signature)>
//! ```
//!
//! Keys use the same text forms as Go's `golang.org/x/mod/sumdb/note`, so existing tooling can
//! check our checkpoints: verifier key `<name>+<hex key hash>+<base64(0x01 ‖ public key)>`,
//! signer key `PRIVATE+KEY+<name>+<hex key hash>+<base64(0x01 ‖ seed)>`.

use base64::{Engine, engine::general_purpose::STANDARD};
use ring::{
    digest::{SHA256, digest},
    rand::{SecureRandom, SystemRandom},
    signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey},
};

use super::merkle::Hash;

/// The signature algorithm byte of an Ed25519 key in a signed note.
const ALG_ED25519: u8 = 0x01;

/// A log head: the log called `origin` has `size` records and this root hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// The checkpoint body, the text that is signed.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    /// Parses a checkpoint body (the signature lines removed).
    pub fn parse_body(body: &str) -> Result<Checkpoint, NoteError> {
        let mut lines = body
            .strip_suffix('\n')
            .ok_or(NoteError::Malformed)?
            .split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or(NoteError::Malformed)?;
        let size = lines
            .next()
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or(NoteError::Malformed)?;
        let root = lines
            .next()
            .and_then(|r| STANDARD.decode(r).ok())
            .and_then(|r| Hash::try_from(r).ok())
            .ok_or(NoteError::Malformed)?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("not a checkpoint note")]
    Malformed,
    #[error("no signature by key {0} on the note")]
    NoSignature(String),
    #[error("the signature does not verify: the note was altered or signed by another key")]
    BadSignature,
    #[error("not a valid key: {0}")]
    Key(String),
}

/// `SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)[..4]`: identifies a key in signature lines.
fn key_hash(name: &str, public_key: &[u8]) -> [u8; 4] {
    let mut input = Vec::with_capacity(name.len() + 2 + public_key.len());
    input.extend_from_slice(name.as_bytes());
    input.push(b'\n');
    input.push(ALG_ED25519);
    input.extend_from_slice(public_key);
    let hash = digest(&SHA256, &input);
    let mut id = [0; 4];
    id.copy_from_slice(&hash.as_ref()[..4]);
    id
}

fn check_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.contains(['+', ' ', '\n', '\t']) {
        return Err(NoteError::Key(
            "the key name must be non-empty, without spaces or '+'".into(),
        ));
    }
    Ok(())
}

/// The log's signing key. Its `Debug` shows the name only: the seed is a secret.
pub struct LogSigner {
    name: String,
    key_pair: Ed25519KeyPair,
    seed: [u8; 32],
    key_hash: [u8; 4],
}

impl std::fmt::Debug for LogSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSigner")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl LogSigner {
    /// A new random key named `name` (the log's origin).
    pub fn generate(name: &str) -> Result<LogSigner, NoteError> {
        let mut seed = [0; 32];
        SystemRandom::new()
            .fill(&mut seed)
            .map_err(|_| NoteError::Key("no randomness available".into()))?;
        LogSigner::from_seed(name, seed)
    }

    fn from_seed(name: &str, seed: [u8; 32]) -> Result<LogSigner, NoteError> {
        check_name(name)?;
        let key_pair = Ed25519KeyPair::from_seed_unchecked(&seed)
            .map_err(|_| NoteError::Key("not an Ed25519 seed".into()))?;
        let key_hash = key_hash(name, key_pair.public_key().as_ref());
        Ok(LogSigner {
            name: name.to_owned(),
            key_pair,
            seed,
            key_hash,
        })
    }

    /// Reads `PRIVATE+KEY+<name>+<hash>+<base64(0x01 ‖ seed)>`.
    pub fn from_text(text: &str) -> Result<LogSigner, NoteError> {
        // The base64 key may itself contain '+': only the leading fields are split off.
        let fields: Vec<&str> = text.trim().splitn(5, '+').collect();
        let [private, key, name, hash, encoded] = fields[..] else {
            return Err(NoteError::Key(
                "expected PRIVATE+KEY+<name>+<hash>+<key>".into(),
            ));
        };
        if private != "PRIVATE" || key != "KEY" {
            return Err(NoteError::Key(
                "expected PRIVATE+KEY+<name>+<hash>+<key>".into(),
            ));
        }
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| NoteError::Key("the key is not base64".into()))?;
        let Some((&ALG_ED25519, seed)) = bytes.split_first() else {
            return Err(NoteError::Key("not an Ed25519 key".into()));
        };
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| NoteError::Key("an Ed25519 seed is 32 bytes".into()))?;
        let signer = LogSigner::from_seed(name, seed)?;
        if hex::encode(signer.key_hash) != hash {
            return Err(NoteError::Key("the key hash does not match the key".into()));
        }
        Ok(signer)
    }

    /// The private key in the text form [`LogSigner::from_text`] reads. A secret.
    pub fn to_text(&self) -> String {
        let mut bytes = vec![ALG_ED25519];
        bytes.extend_from_slice(&self.seed);
        format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.name,
            hex::encode(self.key_hash),
            STANDARD.encode(bytes)
        )
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn verifier(&self) -> LogVerifier {
        LogVerifier {
            name: self.name.clone(),
            public_key: self.key_pair.public_key().as_ref().to_vec(),
            key_hash: self.key_hash,
        }
    }

    /// The Ed25519 signature of `checkpoint`'s body.
    pub fn sign(&self, checkpoint: &Checkpoint) -> Vec<u8> {
        self.sign_text(&checkpoint.body())
    }

    fn sign_text(&self, text: &str) -> Vec<u8> {
        self.key_pair.sign(text.as_bytes()).as_ref().to_vec()
    }

    /// The signed note of `checkpoint`, given its signature from [`LogSigner::sign`].
    pub fn note(&self, checkpoint: &Checkpoint, signature: &[u8]) -> String {
        self.verifier().note(checkpoint, signature)
    }
}

/// The log's public key: all an auditor needs to check checkpoints and records offline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogVerifier {
    name: String,
    public_key: Vec<u8>,
    key_hash: [u8; 4],
}

impl LogVerifier {
    /// Reads `<name>+<hex key hash>+<base64(0x01 ‖ public key)>`.
    pub fn from_text(text: &str) -> Result<LogVerifier, NoteError> {
        let fields: Vec<&str> = text.trim().splitn(3, '+').collect();
        let [name, hash, encoded] = fields[..] else {
            return Err(NoteError::Key("expected <name>+<hash>+<key>".into()));
        };
        check_name(name)?;
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| NoteError::Key("the key is not base64".into()))?;
        let Some((&ALG_ED25519, public_key)) = bytes.split_first() else {
            return Err(NoteError::Key("not an Ed25519 key".into()));
        };
        if public_key.len() != 32 {
            return Err(NoteError::Key("an Ed25519 public key is 32 bytes".into()));
        }
        let key_hash = key_hash(name, public_key);
        if hex::encode(key_hash) != hash {
            return Err(NoteError::Key("the key hash does not match the key".into()));
        }
        Ok(LogVerifier {
            name: name.to_owned(),
            public_key: public_key.to_vec(),
            key_hash,
        })
    }

    pub fn to_text(&self) -> String {
        let mut bytes = vec![ALG_ED25519];
        bytes.extend_from_slice(&self.public_key);
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(self.key_hash),
            STANDARD.encode(bytes)
        )
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether `signature` is this key's signature of `checkpoint`.
    pub fn verify(&self, checkpoint: &Checkpoint, signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, &self.public_key)
            .verify(checkpoint.body().as_bytes(), signature)
            .is_ok()
    }

    /// The signed note of `checkpoint` with `signature`.
    pub fn note(&self, checkpoint: &Checkpoint, signature: &[u8]) -> String {
        format!("{}\n{}", checkpoint.body(), self.signature_line(signature))
    }

    /// `— <name> <base64(key hash ‖ signature)>`, with its newline.
    fn signature_line(&self, signature: &[u8]) -> String {
        let mut tagged = self.key_hash.to_vec();
        tagged.extend_from_slice(signature);
        format!("\u{2014} {} {}\n", self.name, STANDARD.encode(tagged))
    }

    /// Checks a signed note and returns its checkpoint: it must carry a valid signature by
    /// this key. Signatures by other keys (witnesses) are allowed and ignored.
    pub fn open(&self, note: &str) -> Result<Checkpoint, NoteError> {
        let (body, signatures) = note.split_once("\n\n").ok_or(NoteError::Malformed)?;
        let body = format!("{body}\n");
        let checkpoint = Checkpoint::parse_body(&body)?;
        let prefix = format!("\u{2014} {} ", self.name);
        for line in signatures.lines() {
            let Some(encoded) = line.strip_prefix(&prefix) else {
                continue;
            };
            let tagged = STANDARD.decode(encoded).map_err(|_| NoteError::Malformed)?;
            if tagged.len() != 4 + 64 || tagged[..4] != self.key_hash {
                continue;
            }
            return if self.verify(&checkpoint, &tagged[4..]) {
                Ok(checkpoint)
            } else {
                Err(NoteError::BadSignature)
            };
        }
        Err(NoteError::NoSignature(self.name.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            origin: "sentinel.example/audit".into(),
            size: 8,
            root: [7; 32],
        }
    }

    #[test]
    fn a_note_round_trips_and_verifies() {
        let signer = LogSigner::generate("sentinel.example/audit").unwrap();
        let signature = signer.sign(&checkpoint());
        let note = signer.note(&checkpoint(), &signature);
        assert!(note.starts_with("sentinel.example/audit\n8\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n\n\u{2014} sentinel.example/audit "));
        let verifier = LogVerifier::from_text(&signer.verifier().to_text()).unwrap();
        assert_eq!(verifier.open(&note).unwrap(), checkpoint());
    }

    /// The known answer of Go's golang.org/x/mod/sumdb/note (note_test.go): Ed25519 is
    /// deterministic, so the same key must give the same note, byte for byte.
    #[test]
    fn notes_match_go_sumdb_note_byte_for_byte() {
        let signer = LogSigner::from_text(
            "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        )
        .unwrap();
        assert_eq!(
            signer.verifier().to_text(),
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        );
        let text = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
        let note = format!(
            "{text}\n{}",
            signer.verifier().signature_line(&signer.sign_text(text))
        );
        assert_eq!(
            note,
            format!(
                "{text}\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
            )
        );
    }

    #[test]
    fn keys_round_trip_through_their_text_forms() {
        let signer = LogSigner::generate("log").unwrap();
        let again = LogSigner::from_text(&signer.to_text()).unwrap();
        assert_eq!(again.verifier(), signer.verifier());
        assert!(signer.to_text().starts_with("PRIVATE+KEY+log+"));
        let mut wrong_hash = signer.verifier().to_text();
        wrong_hash.replace_range(
            4..6,
            if &wrong_hash[4..6] == "00" {
                "11"
            } else {
                "00"
            },
        );
        assert!(LogVerifier::from_text(&wrong_hash).is_err());
        assert!(LogVerifier::from_text("not a key").is_err());
        assert!(LogSigner::from_text("PRIVATE+KEY+x+00000000+AAAA").is_err());
    }

    #[test]
    fn an_altered_note_or_another_key_is_refused() {
        let signer = LogSigner::generate("log").unwrap();
        let note = signer.note(&checkpoint(), &signer.sign(&checkpoint()));
        let verifier = signer.verifier();
        let bigger = note.replacen("\n8\n", "\n9\n", 1);
        assert_eq!(verifier.open(&bigger), Err(NoteError::BadSignature));
        let other = LogSigner::generate("log").unwrap().verifier();
        assert_eq!(other.open(&note), Err(NoteError::NoSignature("log".into())));
        assert_eq!(verifier.open("garbage"), Err(NoteError::Malformed));
        // A forger without the key can only write signature bytes of their own.
        let forged = format!(
            "{}\n\u{2014} log {}\n",
            checkpoint().body(),
            STANDARD.encode([verifier.key_hash.as_slice(), &[0u8; 64]].concat())
        );
        assert_eq!(verifier.open(&forged), Err(NoteError::BadSignature));
    }
}
