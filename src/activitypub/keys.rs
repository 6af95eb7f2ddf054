//! The instance's signing key and the public keys of remote actors.
//!
//! The instance key is an RSA-2048 key kept in the data folder as `activitypub-key.pem`,
//! PKCS#8 PEM (`BEGIN PRIVATE KEY`), mode 0600. It is generated at the first start and
//! written atomically (a temporary file created with mode 0600, then renamed), so a crash
//! never leaves a half-written key and the key is never readable by others, not even for a
//! moment. A key file that group or others may read is refused, not silently repaired.
//!
//! The actor document publishes the public half as SubjectPublicKeyInfo PEM
//! (`BEGIN PUBLIC KEY`, 64-character lines): several servers reject PKCS#1.
//!
//! Remote keys come from the `publicKeyPem` of other actors: SubjectPublicKeyInfo holding
//! RSA or Ed25519, or PKCS#1 `BEGIN RSA PUBLIC KEY`, which some servers publish. RSA keys
//! are accepted from 2048 to 8192 bits. Each is parsed once and kept parsed, so a cached
//! [`RemoteKey`] verifies without reparsing.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, KeyPair, ParsedPublicKey, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The file name of the instance key in the data folder.
pub const KEY_FILE_NAME: &str = "activitypub-key.pem";

/// What went wrong with a key: each variant names the file or the PEM it came from.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key file could not be read.
    #[error("cannot read the ActivityPub key {}: {source}", path.display())]
    Read {
        /// The key file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The key file could not be written.
    #[error("cannot write the ActivityPub key {}: {source}", path.display())]
    Write {
        /// The file being written.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The key file may be read by group or others.
    #[error(
        "the ActivityPub key {} has mode {mode:04o}, open to group or others: \
         run `chmod 600 {}` (and check who could have read it)",
        path.display(),
        path.display()
    )]
    Permissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The key file does not hold a usable private key.
    #[error("the ActivityPub key {} is not a usable RSA private key: {reason}", path.display())]
    Corrupt {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A PEM text (a private key, or a remote actor's `publicKeyPem`) is not usable.
    #[error("bad key PEM: {0}")]
    Pem(String),
    /// The cryptographic library failed to make a key or a signature.
    #[error("{0} failed")]
    Crypto(&'static str),
}

/// The signature algorithms we verify, by their RFC 9421 names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (`rsa-v1_5-sha256`; draft-cavage's `rsa-sha256`).
    RsaV15Sha256,
    /// RSASSA-PSS with SHA-512, MGF1 SHA-512 and a 64-byte salt (`rsa-pss-sha512`).
    RsaPssSha512,
    /// Ed25519 (`ed25519`).
    Ed25519,
}

impl Algorithm {
    /// The algorithm of an RFC 9421 `alg` parameter, if we know it.
    pub fn from_rfc9421(name: &str) -> Option<Algorithm> {
        match name {
            "rsa-v1_5-sha256" => Some(Algorithm::RsaV15Sha256),
            "rsa-pss-sha512" => Some(Algorithm::RsaPssSha512),
            "ed25519" => Some(Algorithm::Ed25519),
            _ => None,
        }
    }

    /// Its RFC 9421 name.
    pub fn rfc9421_name(self) -> &'static str {
        match self {
            Algorithm::RsaV15Sha256 => "rsa-v1_5-sha256",
            Algorithm::RsaPssSha512 => "rsa-pss-sha512",
            Algorithm::Ed25519 => "ed25519",
        }
    }
}

/// The instance's RSA key pair, parsed once, with its public half as SPKI PEM.
pub struct InstanceKey {
    pair: RsaKeyPair,
    public_pem: String,
}

impl fmt::Debug for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the private half.
        f.debug_struct("InstanceKey").finish_non_exhaustive()
    }
}

impl InstanceKey {
    /// Loads `activitypub-key.pem` from `data_dir`, or generates and writes it when absent.
    pub fn load_or_generate(data_dir: &Path) -> Result<InstanceKey, KeyError> {
        let path = data_dir.join(KEY_FILE_NAME);
        match fs::read_to_string(&path) {
            Ok(text) => {
                check_private_mode(&path)?;
                InstanceKey::from_pkcs8_pem(&text).map_err(|e| KeyError::Corrupt {
                    path: path.clone(),
                    reason: e.to_string(),
                })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let key = InstanceKey::generate()?;
                write_private_file(&path, key.to_pkcs8_pem()?.as_bytes())?;
                Ok(key)
            }
            Err(source) => Err(KeyError::Read { path, source }),
        }
    }

    /// Generates a new RSA-2048 key (in memory only).
    pub fn generate() -> Result<InstanceKey, KeyError> {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| KeyError::Crypto("RSA key generation"))?;
        InstanceKey::from_pair(pair)
    }

    /// Parses a private key from PEM: PKCS#8 (`BEGIN PRIVATE KEY`), or PKCS#1
    /// (`BEGIN RSA PRIVATE KEY`) for a key brought from elsewhere.
    pub fn from_pkcs8_pem(pem: &str) -> Result<InstanceKey, KeyError> {
        let (label, der) = pem_decode(pem)?;
        let pair = match label.as_str() {
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der),
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der),
            other => {
                return Err(KeyError::Pem(format!(
                    "a {other} is not an RSA private key"
                )));
            }
        }
        .map_err(|e| KeyError::Pem(format!("RSA private key rejected: {e}")))?;
        InstanceKey::from_pair(pair)
    }

    fn from_pair(pair: RsaKeyPair) -> Result<InstanceKey, KeyError> {
        let spki: PublicKeyX509Der<'static> = pair
            .public_key()
            .as_der()
            .map_err(|_| KeyError::Crypto("public key encoding"))?;
        let public_pem = pem_encode("PUBLIC KEY", spki.as_ref());
        Ok(InstanceKey { pair, public_pem })
    }

    /// The private key as PKCS#8 PEM, as written to the key file.
    pub fn to_pkcs8_pem(&self) -> Result<String, KeyError> {
        let der: Pkcs8V1Der<'static> = self
            .pair
            .as_der()
            .map_err(|_| KeyError::Crypto("private key encoding"))?;
        Ok(pem_encode("PRIVATE KEY", der.as_ref()))
    }

    /// The public key as SubjectPublicKeyInfo PEM (`BEGIN PUBLIC KEY`), for `publicKeyPem`.
    pub fn public_key_pem(&self) -> &str {
        &self.public_pem
    }

    /// Signs `data` with RSASSA-PKCS1-v1_5 SHA-256 (draft-cavage `rsa-sha256`, RFC 9421
    /// `rsa-v1_5-sha256`). Deterministic: the same data gives the same signature.
    pub fn sign_rsa_sha256(&self, data: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut out = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                data,
                &mut out,
            )
            .map_err(|_| KeyError::Crypto("RSA signing"))?;
        Ok(out)
    }
}

/// A remote actor's public key, parsed once for the algorithms it can verify.
#[derive(Clone)]
pub struct RemoteKey {
    kind: RemoteKind,
}

#[derive(Clone)]
enum RemoteKind {
    Rsa {
        pkcs1: ParsedPublicKey,
        pss: ParsedPublicKey,
    },
    Ed25519(ParsedPublicKey),
}

impl fmt::Debug for RemoteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.is_rsa() { "RSA" } else { "Ed25519" };
        f.debug_struct("RemoteKey").field("kind", &kind).finish()
    }
}

impl RemoteKey {
    /// Parses a `publicKeyPem`: SPKI `BEGIN PUBLIC KEY` (RSA or Ed25519) or PKCS#1
    /// `BEGIN RSA PUBLIC KEY`.
    pub fn from_pem(pem: &str) -> Result<RemoteKey, KeyError> {
        let (label, der) = pem_decode(pem)?;
        match label.as_str() {
            "PUBLIC KEY" => RemoteKey::from_spki_der(&der),
            "RSA PUBLIC KEY" => RemoteKey::rsa(&der),
            other => Err(KeyError::Pem(format!("a {other} is not a public key"))),
        }
    }

    fn from_spki_der(der: &[u8]) -> Result<RemoteKey, KeyError> {
        // The RSA parser takes SPKI too and refuses an Ed25519 SPKI, which tells the two
        // apart without reading the DER ourselves.
        if aws_lc_rs::rsa::PublicKey::from_der(der).is_ok() {
            return RemoteKey::rsa(der);
        }
        // A bare 32-byte string would also parse as Ed25519; SPKI is longer.
        if der.len() == signature::ED25519_PUBLIC_KEY_LEN {
            return Err(KeyError::Pem("not a SubjectPublicKeyInfo".into()));
        }
        ParsedPublicKey::new(&signature::ED25519, der)
            .map(|key| RemoteKey {
                kind: RemoteKind::Ed25519(key),
            })
            .map_err(|e| KeyError::Pem(format!("neither an RSA nor an Ed25519 public key: {e}")))
    }

    fn rsa(der: &[u8]) -> Result<RemoteKey, KeyError> {
        let rejected = |e| KeyError::Pem(format!("RSA public key rejected: {e}"));
        let bits = aws_lc_rs::rsa::PublicKey::from_der(der)
            .map_err(rejected)?
            .modulus_len()
            * 8;
        // Checked here, where verifying would only say "invalid signature".
        if !(2048..=8192).contains(&bits) {
            return Err(KeyError::Pem(format!(
                "RSA key of {bits} bits; 2048 to 8192 accepted"
            )));
        }
        let pkcs1 =
            ParsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, der).map_err(rejected)?;
        let pss =
            ParsedPublicKey::new(&signature::RSA_PSS_2048_8192_SHA512, der).map_err(rejected)?;
        Ok(RemoteKey {
            kind: RemoteKind::Rsa { pkcs1, pss },
        })
    }

    /// Whether this is an RSA key (else Ed25519).
    pub fn is_rsa(&self) -> bool {
        matches!(self.kind, RemoteKind::Rsa { .. })
    }

    /// The algorithm to assume when a signature does not name one (draft-cavage `hs2019`,
    /// or RFC 9421 without `alg`): PKCS#1 v1.5 SHA-256 for RSA, as every server signs.
    pub fn default_algorithm(&self) -> Algorithm {
        if self.is_rsa() {
            Algorithm::RsaV15Sha256
        } else {
            Algorithm::Ed25519
        }
    }

    /// Whether `signature` is a valid `alg` signature of `data` by this key. An algorithm
    /// that does not fit the key (Ed25519 with an RSA key) is simply not valid.
    pub fn verify(&self, alg: Algorithm, data: &[u8], signature: &[u8]) -> bool {
        let key = match (&self.kind, alg) {
            (RemoteKind::Rsa { pkcs1, .. }, Algorithm::RsaV15Sha256) => pkcs1,
            (RemoteKind::Rsa { pss, .. }, Algorithm::RsaPssSha512) => pss,
            (RemoteKind::Ed25519(key), Algorithm::Ed25519) => key,
            _ => return false,
        };
        key.verify_sig(data, signature).is_ok()
    }
}

/// Refuses a key file that group or others may access in any way.
#[cfg(unix)]
fn check_private_mode(path: &Path) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = fs::metadata(path).map_err(|source| KeyError::Read {
        path: path.into(),
        source,
    })?;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(KeyError::Permissions {
            path: path.into(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private_mode(_path: &Path) -> Result<(), KeyError> {
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file created with mode 0600 (never wider,
/// not even before a chmod), synced, then renamed over `path`.
fn write_private_file(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    let tmp = path.with_extension(format!("pem.tmp{}", std::process::id()));
    let write_err = |source| KeyError::Write {
        path: tmp.clone(),
        source,
    };
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let result = options.open(&tmp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    if let Err(e) = result {
        // A leftover temporary file would make the next start's create_new fail.
        let _ = fs::remove_file(&tmp);
        return Err(write_err(e));
    }
    fs::rename(&tmp, path).map_err(|source| KeyError::Write {
        path: path.into(),
        source,
    })?;
    // The rename is durable once the folder is synced.
    if let Some(dir) = path.parent()
        && let Ok(dir) = fs::File::open(dir)
    {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// PEM text: the label and base64 body between the first BEGIN line and its END line.
fn pem_decode(text: &str) -> Result<(String, Vec<u8>), KeyError> {
    let start = text
        .find("-----BEGIN ")
        .ok_or_else(|| KeyError::Pem("no -----BEGIN line".into()))?;
    let rest = &text[start + "-----BEGIN ".len()..];
    let label_end = rest
        .find("-----")
        .ok_or_else(|| KeyError::Pem("unterminated BEGIN line".into()))?;
    let label = &rest[..label_end];
    let body = &rest[label_end + "-----".len()..];
    let end_line = format!("-----END {label}-----");
    let body_end = body
        .find(&end_line)
        .ok_or_else(|| KeyError::Pem(format!("no {end_line} line")))?;
    // Some servers put `\n` escapes or CRLF in their PEM; whitespace is never base64.
    let b64: String = body[..body_end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = STANDARD
        .decode(b64.as_bytes())
        .map_err(|e| KeyError::Pem(format!("bad base64 in the {label} PEM: {e}")))?;
    Ok((label.to_string(), der))
}

/// PEM with 64-character lines and a final newline.
fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        // Base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activitypub::signature::test_vectors as tv;

    #[cfg(unix)]
    fn mode_of(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    #[cfg(unix)]
    fn generated_key_is_0600_and_loads_back_to_the_same_public_key() {
        let dir = tempfile::tempdir().unwrap();
        let first = InstanceKey::load_or_generate(dir.path()).unwrap();
        let path = dir.path().join(KEY_FILE_NAME);
        assert_eq!(mode_of(&path), 0o600);
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{text}");
        // Nothing but the key is left in the folder.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        let again = InstanceKey::load_or_generate(dir.path()).unwrap();
        assert_eq!(first.public_key_pem(), again.public_key_pem());
        let sig = again.sign_rsa_sha256(b"hello").unwrap();
        let remote = RemoteKey::from_pem(first.public_key_pem()).unwrap();
        assert!(remote.verify(Algorithm::RsaV15Sha256, b"hello", &sig));
    }

    #[test]
    #[cfg(unix)]
    fn a_key_file_readable_by_others_is_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        InstanceKey::load_or_generate(dir.path()).unwrap();
        let path = dir.path().join(KEY_FILE_NAME);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = InstanceKey::load_or_generate(dir.path()).unwrap_err();
        assert!(
            matches!(err, KeyError::Permissions { mode: 0o644, .. }),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        assert!(msg.contains("chmod 600"), "{msg}");
    }

    #[test]
    #[cfg(unix)]
    fn a_corrupt_key_file_is_refused_naming_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE_NAME);
        fs::write(
            &path,
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let err = InstanceKey::load_or_generate(dir.path()).unwrap_err();
        assert!(matches!(err, KeyError::Corrupt { .. }), "{err:?}");
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
        // The corrupt file is left for the operator, not replaced by a new key.
        assert!(fs::read_to_string(&path).unwrap().contains("AAAA"));
    }

    #[test]
    fn public_key_pem_is_spki_in_64_character_lines() {
        let key = InstanceKey::from_pkcs8_pem(tv::RSA_PRIVATE_PKCS1).unwrap();
        let pem = key.public_key_pem();
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines.first(), Some(&"-----BEGIN PUBLIC KEY-----"));
        assert_eq!(lines.last(), Some(&"-----END PUBLIC KEY-----"));
        let body = &lines[1..lines.len() - 1];
        assert!(
            body[..body.len() - 1].iter().all(|l| l.len() == 64),
            "{pem}"
        );
        assert!(body[body.len() - 1].len() <= 64);
        assert!(RemoteKey::from_pem(pem).unwrap().is_rsa());
    }

    #[test]
    fn the_private_key_survives_a_pem_round_trip() {
        let key = InstanceKey::from_pkcs8_pem(tv::RSA_PRIVATE_PKCS1).unwrap();
        let again = InstanceKey::from_pkcs8_pem(&key.to_pkcs8_pem().unwrap()).unwrap();
        assert_eq!(key.public_key_pem(), again.public_key_pem());
        // The RFC 9421 test-key-rsa in PKCS#1 and its public half in PKCS#1 form.
        let remote = RemoteKey::from_pem(tv::RSA_PUBLIC_PKCS1).unwrap();
        let sig = key.sign_rsa_sha256(b"data").unwrap();
        assert!(remote.verify(Algorithm::RsaV15Sha256, b"data", &sig));
        assert!(!remote.verify(Algorithm::RsaV15Sha256, b"other", &sig));
        assert!(!remote.verify(Algorithm::RsaPssSha512, b"data", &sig));
        assert!(!remote.verify(Algorithm::Ed25519, b"data", &sig));
    }

    #[test]
    fn remote_keys_of_every_published_form_parse() {
        let pss = RemoteKey::from_pem(tv::RSA_PSS_PUBLIC_SPKI).unwrap();
        assert!(pss.is_rsa());
        assert_eq!(pss.default_algorithm(), Algorithm::RsaV15Sha256);
        let ed = RemoteKey::from_pem(tv::ED25519_PUBLIC_SPKI).unwrap();
        assert!(!ed.is_rsa());
        assert_eq!(ed.default_algorithm(), Algorithm::Ed25519);
        // A PEM as some servers escape it in JSON, with CRLF line ends.
        let crlf = tv::RSA_PSS_PUBLIC_SPKI.replace('\n', "\r\n");
        assert!(RemoteKey::from_pem(&crlf).unwrap().is_rsa());
    }

    #[test]
    fn bad_pems_are_refused_with_a_reason() {
        for (pem, want) in [
            ("", "no -----BEGIN"),
            (
                "-----BEGIN PUBLIC KEY-----\nMIIB\n",
                "no -----END PUBLIC KEY-----",
            ),
            (
                "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----",
                "bad base64",
            ),
            (
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
                "not a public key",
            ),
            (
                "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
                "neither",
            ),
        ] {
            let err = RemoteKey::from_pem(pem).unwrap_err().to_string();
            assert!(err.contains(want), "{pem:?}: {err}");
        }
        // The 1024-bit key of draft-cavage's examples is too small to trust.
        let err = RemoteKey::from_pem(tv::CAVAGE_PUBLIC_SPKI)
            .unwrap_err()
            .to_string();
        assert!(err.contains("1024 bits"), "{err}");
    }

    #[test]
    fn algorithm_names_round_trip() {
        for alg in [
            Algorithm::RsaV15Sha256,
            Algorithm::RsaPssSha512,
            Algorithm::Ed25519,
        ] {
            assert_eq!(Algorithm::from_rfc9421(alg.rfc9421_name()), Some(alg));
        }
        assert_eq!(Algorithm::from_rfc9421("hmac-sha256"), None);
    }
}
