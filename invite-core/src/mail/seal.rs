use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};

use crate::error::{Error, Result};
use crate::random::RandomSource;
use crate::token::Token;

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
        let mut nonce = [0u8; 24];
        random.fill(&mut nonce)?;
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), token.expose().as_bytes())
            .map_err(|_| Error::internal("sealing a token failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    /// Decrypts a sealed token; `None` if it was sealed with another key or altered.
    pub fn open(&self, sealed: &str) -> Option<Token> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if bytes.len() < 24 {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(24);
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), ciphertext)
            .ok()?;
        Token::parse(std::str::from_utf8(&plain).ok()?).ok()
    }
}
