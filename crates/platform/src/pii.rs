//! Personal data at rest. The [`PiiVault`] encrypts identity numbers and phone numbers with
//! AES-256-GCM under a named key (the key id is stored beside each ciphertext, so keys can rotate:
//! new writes use the current key, old rows still decrypt with theirs), and computes an HMAC-SHA256
//! blind index so an exact lookup never needs the clear value in the database. Each ciphertext is
//! bound to its purpose (`identity:resident_id`, `phone`) as associated data, so a value cannot be
//! moved to another column. Keys come from a TOML key file: generated into the data dir in embedded
//! mode, required in production.

use std::collections::BTreeMap;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::settings::{Mode, Settings};

const NONCE_LEN: usize = 12;

/// Why keys could not be loaded or a value could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum PiiError {
    /// The key file is missing, unreadable or malformed.
    #[error("PII keys: {0}")]
    Keys(String),
    /// A stored value names a key this vault does not hold.
    #[error("no PII key with id {0}")]
    UnknownKey(String),
    /// A stored value failed authentication (tampered, wrong purpose or wrong key).
    #[error("a stored PII value failed to decrypt")]
    Decrypt,
}

/// A sealed value: the key id and `nonce || ciphertext+tag`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// Id of the key that sealed it.
    pub key_id: String,
    /// Nonce followed by the ciphertext and tag.
    pub bytes: Vec<u8>,
}

/// Encrypts, decrypts and blind-indexes personal data.
#[derive(Clone)]
pub struct PiiVault {
    current: String,
    keys: BTreeMap<String, Aes256Gcm>,
    index_key: Vec<u8>,
}

impl std::fmt::Debug for PiiVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PiiVault")
            .field("current", &self.current)
            .field("keys", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct KeyFile {
    current: String,
    index_key: String,
    keys: BTreeMap<String, String>,
}

fn decode_key(name: &str, b64: &str) -> Result<Vec<u8>, PiiError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|e| PiiError::Keys(format!("{name}: not base64: {e}")))?;
    if bytes.len() != 32 {
        return Err(PiiError::Keys(format!(
            "{name}: must be 32 bytes, found {}",
            bytes.len()
        )));
    }
    Ok(bytes)
}

impl PiiVault {
    /// A vault over explicit keys: `keys` maps key id → 32-byte AES key; `current` seals new values.
    pub fn new(
        current: &str,
        keys: &BTreeMap<String, [u8; 32]>,
        index_key: [u8; 32],
    ) -> Result<PiiVault, PiiError> {
        let ciphers: BTreeMap<String, Aes256Gcm> = keys
            .iter()
            .map(|(id, key)| (id.clone(), Aes256Gcm::new(key.into())))
            .collect();
        if !ciphers.contains_key(current) {
            return Err(PiiError::Keys(format!(
                "current key {current} is not among the keys"
            )));
        }
        Ok(PiiVault {
            current: current.to_owned(),
            keys: ciphers,
            index_key: index_key.to_vec(),
        })
    }

    /// Loads the key file the settings name (`pii_key_file`); in embedded mode a missing file is
    /// generated at `<data_dir>/pii-keys.toml`. Production refuses to start without one.
    pub fn from_settings(settings: &Settings) -> Result<PiiVault, PiiError> {
        let path = settings
            .pii_key_file
            .clone()
            .unwrap_or_else(|| settings.data_dir.join("pii-keys.toml"));
        if !path.exists() {
            if settings.mode == Mode::Production {
                return Err(PiiError::Keys(format!(
                    "{} does not exist; production needs pii_key_file",
                    path.display()
                )));
            }
            generate_key_file(&path)?;
        }
        PiiVault::from_file(&path)
    }

    /// Loads a key file.
    pub fn from_file(path: &Path) -> Result<PiiVault, PiiError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| PiiError::Keys(format!("{}: {e}", path.display())))?;
        let file: KeyFile = toml::from_str(&text)
            .map_err(|e| PiiError::Keys(format!("{}: {e}", path.display())))?;
        let mut keys = BTreeMap::new();
        for (id, b64) in &file.keys {
            let bytes = decode_key(&format!("keys.{id}"), b64)?;
            let mut key = [0u8; 32];
            key.copy_from_slice(&bytes);
            keys.insert(id.clone(), key);
        }
        let index = decode_key("index_key", &file.index_key)?;
        let mut index_key = [0u8; 32];
        index_key.copy_from_slice(&index);
        PiiVault::new(&file.current, &keys, index_key)
    }

    /// Seals `clear` for `purpose` under the current key.
    pub fn seal(&self, purpose: &str, clear: &str) -> Result<Sealed, PiiError> {
        let cipher = self
            .keys
            .get(&self.current)
            .ok_or_else(|| PiiError::UnknownKey(self.current.clone()))?;
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let ciphertext = cipher
            .encrypt(
                &Nonce::from(nonce_bytes),
                Payload {
                    msg: clear.as_bytes(),
                    aad: purpose.as_bytes(),
                },
            )
            .map_err(|_| PiiError::Decrypt)?;
        let mut bytes = nonce_bytes.to_vec();
        bytes.extend_from_slice(&ciphertext);
        Ok(Sealed {
            key_id: self.current.clone(),
            bytes,
        })
    }

    /// Opens a sealed value of `purpose`.
    pub fn open(&self, purpose: &str, sealed: &Sealed) -> Result<String, PiiError> {
        let cipher = self
            .keys
            .get(&sealed.key_id)
            .ok_or_else(|| PiiError::UnknownKey(sealed.key_id.clone()))?;
        if sealed.bytes.len() < NONCE_LEN {
            return Err(PiiError::Decrypt);
        }
        let (nonce, ciphertext) = sealed.bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| PiiError::Decrypt)?;
        let clear = cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: purpose.as_bytes(),
                },
            )
            .map_err(|_| PiiError::Decrypt)?;
        String::from_utf8(clear).map_err(|_| PiiError::Decrypt)
    }

    /// The blind index of a normalised value for `purpose`: hex HMAC-SHA256 keyed by the index key.
    pub fn blind_index(&self, purpose: &str, normalised: &str) -> String {
        // HMAC accepts keys of any length, so this cannot fail; fall back to an empty index if it did.
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&self.index_key) else {
            return String::new();
        };
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(normalised.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Writes a new key file with one random AES key (`k1`) and a random index key, mode 0600.
pub fn generate_key_file(path: &Path) -> Result<(), PiiError> {
    let b64 = |bytes: [u8; 32]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let file = KeyFile {
        current: "k1".to_owned(),
        index_key: b64(rand::random()),
        keys: BTreeMap::from([("k1".to_owned(), b64(rand::random()))]),
    };
    let text = toml::to_string(&file).map_err(|e| PiiError::Keys(e.to_string()))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| PiiError::Keys(format!("{}: {e}", dir.display())))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut f) => {
            use std::io::Write;
            f.write_all(text.as_bytes())
                .map_err(|e| PiiError::Keys(format!("{}: {e}", path.display())))
        }
        // Another process created it first; theirs wins.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(PiiError::Keys(format!("{}: {e}", path.display()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault(current: &str) -> PiiVault {
        let keys = BTreeMap::from([("k1".to_owned(), [1u8; 32]), ("k2".to_owned(), [2u8; 32])]);
        PiiVault::new(current, &keys, [9u8; 32]).expect("vault")
    }

    #[test]
    fn sealed_values_open_only_for_their_purpose() {
        let v = vault("k1");
        let sealed = v
            .seal("identity:resident_id", "11010519491231002X")
            .expect("seal");
        assert_eq!(sealed.key_id, "k1");
        assert!(
            !sealed.bytes.windows(4).any(|w| w == b"1101"),
            "no clear text at rest"
        );
        assert_eq!(
            v.open("identity:resident_id", &sealed).expect("open"),
            "11010519491231002X"
        );
        assert!(matches!(v.open("phone", &sealed), Err(PiiError::Decrypt)));
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.bytes.last_mut() {
            *last ^= 1;
        }
        assert!(matches!(
            v.open("identity:resident_id", &tampered),
            Err(PiiError::Decrypt)
        ));
        // Two seals of the same value differ (random nonce).
        assert_ne!(
            v.seal("phone", "+8613800138000").expect("seal").bytes,
            v.seal("phone", "+8613800138000").expect("seal").bytes
        );
    }

    #[test]
    fn keys_rotate_without_losing_old_values() {
        let old = vault("k1").seal("phone", "+8613800138000").expect("seal");
        let rotated = vault("k2");
        assert_eq!(rotated.seal("phone", "x").expect("seal").key_id, "k2");
        assert_eq!(
            rotated.open("phone", &old).expect("old key still opens"),
            "+8613800138000"
        );
        let unknown = Sealed {
            key_id: "k9".into(),
            bytes: old.bytes,
        };
        assert!(matches!(
            rotated.open("phone", &unknown),
            Err(PiiError::UnknownKey(_))
        ));
    }

    #[test]
    fn blind_indexes_are_stable_keyed_and_purpose_bound() {
        let v = vault("k1");
        let a = v.blind_index("identity:resident_id", "11010519491231002X");
        assert_eq!(
            a,
            v.blind_index("identity:resident_id", "11010519491231002X")
        );
        assert_eq!(a.len(), 64);
        assert_ne!(a, v.blind_index("identity:passport", "11010519491231002X"));
        let other = PiiVault::new(
            "k1",
            &BTreeMap::from([("k1".to_owned(), [1u8; 32])]),
            [8u8; 32],
        )
        .expect("vault");
        assert_ne!(
            a,
            other.blind_index("identity:resident_id", "11010519491231002X")
        );
    }

    #[test]
    fn a_generated_key_file_loads_and_is_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keys/pii-keys.toml");
        generate_key_file(&path).expect("generate");
        let first = PiiVault::from_file(&path).expect("load");
        generate_key_file(&path).expect("existing file is kept");
        let second = PiiVault::from_file(&path).expect("load");
        let sealed = first.seal("phone", "+8613800138000").expect("seal");
        assert_eq!(
            second.open("phone", &sealed).expect("same keys"),
            "+8613800138000"
        );
    }
}
