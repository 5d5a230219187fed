use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{Key, Tag, XChaCha20Poly1305, XNonce};

use crate::error::{Error, Result};
use crate::random::RandomSource;
use crate::token::{TOKEN_LEN, Token};

/// A nonce's length (XChaCha20's 192 bits: random nonces never repeat in practice).
pub(crate) const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// A sealed token's bytes: nonce, encrypted token, tag.
const SEALED_LEN: usize = NONCE_LEN + TOKEN_LEN + TAG_LEN;

/// Seals tokens that must wait in the outbox (or an idempotency record) so that no raw
/// token is ever at rest. XChaCha20-Poly1305 with a key the host configures; without one,
/// a per-process key is drawn, and messages queued by an earlier process fail with a
/// delivery error that a resend fixes.
#[derive(Clone)]
pub struct TokenSealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for TokenSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSealer(<key>)")
    }
}

impl TokenSealer {
    /// A sealer with a 32-byte key.
    pub fn new(key: [u8; 32]) -> Self {
        TokenSealer {
            cipher: XChaCha20Poly1305::new(Key::from_slice(&key)),
        }
    }

    /// Encrypts a token with a fresh random nonce.
    pub fn seal(&self, token: &Token, random: &dyn RandomSource) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        random.fill(&mut nonce)?;
        self.seal_with_nonce(token, nonce)
    }

    /// Encrypts a token with `nonce`, which must be random and never used before (the
    /// service takes nonces from a block of random bytes, see `service::random_block`).
    pub(crate) fn seal_with_nonce(&self, token: &Token, nonce: [u8; NONCE_LEN]) -> Result<String> {
        let mut sealed = [0u8; SEALED_LEN];
        let (nonce_part, rest) = sealed.split_at_mut(NONCE_LEN);
        let (text, tag) = rest.split_at_mut(TOKEN_LEN);
        nonce_part.copy_from_slice(&nonce);
        text.copy_from_slice(token.expose().as_bytes());
        let computed = self
            .cipher
            .encrypt_in_place_detached(XNonce::from_slice(&nonce), b"", text)
            .map_err(|_| Error::internal("sealing a token failed"))?;
        tag.copy_from_slice(&computed);
        Ok(URL_SAFE_NO_PAD.encode(sealed))
    }

    /// Decrypts a sealed token; `None` if it was sealed with another key or altered.
    pub fn open(&self, sealed: &str) -> Option<Token> {
        let mut bytes = [0u8; SEALED_LEN];
        if URL_SAFE_NO_PAD.decode_slice(sealed, &mut bytes).ok()? != SEALED_LEN {
            return None;
        }
        let (nonce, rest) = bytes.split_at_mut(NONCE_LEN);
        let (text, tag) = rest.split_at_mut(TOKEN_LEN);
        self.cipher
            .decrypt_in_place_detached(XNonce::from_slice(nonce), b"", text, Tag::from_slice(tag))
            .ok()?;
        Token::parse(std::str::from_utf8(text).ok()?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;

    fn token() -> Token {
        Token::mint(&SeededRandom::new(1)).unwrap()
    }

    #[test]
    fn opens_what_it_sealed_and_each_seal_differs() {
        let sealer = TokenSealer::new([3; 32]);
        let random = SeededRandom::new(2);
        let first = sealer.seal(&token(), &random).unwrap();
        let second = sealer.seal(&token(), &random).unwrap();
        assert_ne!(first, second, "a fresh nonce per seal");
        for sealed in [&first, &second] {
            assert_eq!(sealer.open(sealed).unwrap().expose(), token().expose());
        }
    }

    #[test]
    fn another_key_an_altered_byte_or_a_wrong_length_opens_nothing() {
        let sealer = TokenSealer::new([3; 32]);
        let sealed = sealer.seal(&token(), &SeededRandom::new(2)).unwrap();
        assert!(TokenSealer::new([4; 32]).open(&sealed).is_none());
        let mut bytes = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        for i in [0, NONCE_LEN, NONCE_LEN + TOKEN_LEN, SEALED_LEN - 1] {
            bytes[i] ^= 1;
            assert!(
                sealer.open(&URL_SAFE_NO_PAD.encode(&bytes)).is_none(),
                "byte {i}"
            );
            bytes[i] ^= 1;
        }
        assert!(sealer.open(&URL_SAFE_NO_PAD.encode(&bytes)).is_some());
        for len in [0, NONCE_LEN, SEALED_LEN - 1] {
            assert!(
                sealer
                    .open(&URL_SAFE_NO_PAD.encode(&bytes[..len]))
                    .is_none(),
                "{len} bytes"
            );
        }
        bytes.push(0);
        assert!(
            sealer.open(&URL_SAFE_NO_PAD.encode(&bytes)).is_none(),
            "one byte more"
        );
        assert!(sealer.open("not base64!").is_none());
        assert!(sealer.open(&format!("{sealed}=")).is_none());
    }

    #[test]
    fn tokens_sealed_by_earlier_releases_still_open() {
        // Sealed by the first release (nonce, then the XChaCha20-Poly1305 ciphertext and
        // tag, base64url): messages already queued must survive an upgrade.
        let sealed = "sVNcd4PqiCm2sM9ncEU5eYtNFsOb8L_gd6pvDYiIaA-Vp0tOz5jcfX7pZJ_UO8WlelTIsI4TUxMgwkI7IcVIHhHDMS8o-_5ayy41UnA6aBtcaLM";
        let sealer = TokenSealer::new([3; 32]);
        assert_eq!(sealer.open(sealed).unwrap().expose(), token().expose());
        assert_eq!(
            sealer.seal(&token(), &SeededRandom::new(2)).unwrap(),
            sealed
        );
    }
}
