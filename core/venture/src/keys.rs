//! API keys: generation, the visible prefix, hashing and constant-time verification.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Length of the prefix that listings show (`ace_` plus 8 hex digits).
const PREFIX_LEN: usize = 12;

/// A freshly generated key. `secret` is shown to its owner once and never stored.
#[derive(Clone)]
pub struct ApiKey {
    /// The whole key, `ace_` followed by 64 hex digits (32 random bytes).
    pub secret: String,
    /// Its first characters, stored in clear so keys can be listed and looked up.
    pub prefix: String,
    /// Hex SHA-256 of the whole key: what the store keeps.
    pub hash: String,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

impl ApiKey {
    /// A new key from 32 bytes of a cryptographically secure generator seeded by the OS.
    pub fn generate() -> ApiKey {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        ApiKey::from_secret(format!("ace_{}", hex::encode(bytes)))
    }

    /// Wraps a key chosen elsewhere (the operator's `ACE_ADMIN_KEY`).
    pub fn from_secret(secret: String) -> ApiKey {
        let prefix = secret.chars().take(PREFIX_LEN).collect();
        let hash = ApiKey::hash(&secret);
        ApiKey { secret, prefix, hash }
    }

    /// Hex SHA-256 of a presented key.
    pub fn hash(secret: &str) -> String {
        hex::encode(Sha256::digest(secret.as_bytes()))
    }

    /// The lookup prefix of a presented key, if it is long enough to have one.
    pub fn prefix_of(secret: &str) -> Option<&str> {
        (secret.len() > PREFIX_LEN && secret.is_char_boundary(PREFIX_LEN))
            .then(|| &secret[..PREFIX_LEN])
    }

    /// Whether `secret` hashes to `stored_hash`, compared in constant time.
    pub fn verify(secret: &str, stored_hash: &str) -> bool {
        let presented = ApiKey::hash(secret);
        presented.as_bytes().ct_eq(stored_hash.as_bytes()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_well_formed() {
        let a = ApiKey::generate();
        let b = ApiKey::generate();
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.secret.len(), 4 + 64);
        assert!(a.secret[4..].chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a.prefix.len(), PREFIX_LEN);
        assert!(!format!("{a:?}").contains(&a.secret[PREFIX_LEN..]), "Debug must not leak");
    }

    #[test]
    fn verify_rejects_near_misses() {
        let k = ApiKey::generate();
        let mut wrong = k.secret.clone();
        wrong.pop();
        wrong.push('x');
        assert!(!ApiKey::verify(&wrong, &k.hash));
        assert!(!ApiKey::verify("", &k.hash));
        assert_eq!(ApiKey::prefix_of("short"), None);
    }
}
