//! Secrets: random tokens, password hashing (argon2id), at-rest encryption of trunk passwords.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::rngs::OsRng;
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};

/// A URL-safe random token of `bytes` random bytes.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// 32 random bytes in base64: a new `secret_key`.
pub fn random_key_base64() -> String {
    let mut key = [0u8; 32];
    OsRng.fill_bytes(&mut key);
    STANDARD.encode(key)
}

/// A SIP password phones can be typed with: 16 characters from an alphabet without look-alikes.
pub fn sip_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..16)
        .map(|_| ALPHABET[OsRng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// A voicemail PIN of 6 digits.
pub fn voicemail_pin() -> String {
    format!("{:06}", OsRng.gen_range(0..1_000_000u32))
}

/// Hex SHA-256: how random tokens and API keys are stored (they carry enough entropy that a
/// slow hash adds nothing, and they are checked on every request).
pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// Hashes a web password with argon2id (blocking: call from `spawn_blocking`).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
}

/// Checks a web password against its argon2 hash (blocking).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash of a random password, compared against when the account does not exist so that a
/// wrong e-mail takes as long as a wrong password.
pub fn dummy_password_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password(&random_token(16)).unwrap_or_default())
}

/// HMAC-SHA256 (RFC 2104). Written out because the workspace's `hmac` crate pairs with
/// another major version of `sha2`; the test vectors of RFC 4231 check it.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block_key = [0u8; BLOCK];
    if key.len() > BLOCK {
        block_key[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block_key[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block_key.map(|b| b ^ 0x36));
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(block_key.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

/// A secret derived from `secret_key` for one purpose and subject, written with the SIP
/// password alphabet (20 characters, about 116 bits): the same inputs give the same secret on
/// every instance, so it need not be stored, and it changes with `secret_key`.
pub fn derived_secret(secret_key: &str, purpose: &str, subject: &str) -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let message = format!("{purpose}\0{subject}");
    hmac_sha256(secret_key.as_bytes(), message.as_bytes())
        .iter()
        .take(20)
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// Encrypts and decrypts small secrets (trunk passwords) with the configured key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl SecretBox {
    /// `key_base64`: 32 bytes in base64.
    pub fn new(key_base64: &str) -> anyhow::Result<Self> {
        let key = STANDARD
            .decode(key_base64.trim())
            .map_err(|_| anyhow::anyhow!("secret_key is not valid base64"))?;
        if key.len() != 32 {
            anyhow::bail!(
                "secret_key must be 32 bytes (base64 of 32 random bytes), not {}",
                key.len()
            );
        }
        let cipher = XChaCha20Poly1305::new_from_slice(&key)
            .map_err(|_| anyhow::anyhow!("secret_key length"))?;
        Ok(Self { cipher })
    }

    /// `v1:` + base64(nonce || ciphertext).
    pub fn seal(&self, plain: &str) -> anyhow::Result<String> {
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), plain.as_bytes())
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(format!("v1:{}", STANDARD.encode(out)))
    }

    pub fn open(&self, sealed: &str) -> anyhow::Result<String> {
        let data = sealed
            .strip_prefix("v1:")
            .and_then(|b64| STANDARD.decode(b64).ok())
            .filter(|d| d.len() > 24)
            .ok_or_else(|| anyhow::anyhow!("not a sealed value"))?;
        let (nonce, ciphertext) = data.split_at(24);
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), ciphertext)
            .map_err(|_| anyhow::anyhow!("cannot decrypt: wrong secret_key?"))?;
        String::from_utf8(plain).map_err(|_| anyhow::anyhow!("decrypted value is not text"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip_and_are_argon2id() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("Correct horse", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn derived_secrets_depend_on_every_input() {
        let one = derived_secret("key", "desk-phone", "1:001565aabbcc");
        assert_eq!(one.len(), 20);
        assert_eq!(one, derived_secret("key", "desk-phone", "1:001565aabbcc"));
        assert_ne!(one, derived_secret("key2", "desk-phone", "1:001565aabbcc"));
        assert_ne!(one, derived_secret("key", "phonebook", "1:001565aabbcc"));
        assert_ne!(one, derived_secret("key", "desk-phone", "2:001565aabbcc"));
        assert!(one.chars().all(|c| c.is_ascii_alphanumeric()), "{one}");
    }

    #[test]
    fn secret_box_round_trip_and_tamper() {
        let sb = SecretBox::new(&random_key_base64()).unwrap();
        let sealed = sb.seal("carrier-pass$1").unwrap();
        assert!(!sealed.contains("carrier"));
        assert_eq!(sb.open(&sealed).unwrap(), "carrier-pass$1");
        let other = SecretBox::new(&random_key_base64()).unwrap();
        assert!(other.open(&sealed).is_err());
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(sb.open(&tampered).is_err());
        assert!(SecretBox::new("c2hvcnQ=").is_err());
    }

    #[test]
    fn generated_credentials_have_their_shape() {
        let password = sip_password();
        assert_eq!(password.len(), 16);
        assert!(password.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(sip_password(), password);
        assert!(domain::VoicemailPin::parse(&voicemail_pin()).is_ok());
        assert_eq!(random_token(32).len(), 43);
    }
}
