//! Invitation tokens: 256 random bits, shown once, stored only as a SHA-256 hash.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorCode, Result};
use crate::random::RandomSource;

/// Length of a token's text form: 32 bytes in unpadded base64url.
pub const TOKEN_LEN: usize = 43;

/// A raw invitation token. Its `Debug` output is redacted so it never reaches logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Mints a token from 32 bytes of the random source.
    pub fn mint(random: &dyn RandomSource) -> Result<Token> {
        let mut bytes = [0u8; 32];
        random.fill(&mut bytes)?;
        Ok(Token(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Checks the fixed length and alphabet before any lookup.
    ///
    /// Every malformed input (empty, too long, wrong alphabet) is `INVALID_TOKEN`.
    pub fn parse(raw: &str) -> Result<Token> {
        let raw = raw.trim();
        let well_formed = raw.len() == TOKEN_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && URL_SAFE_NO_PAD
                .decode_slice(raw, &mut [0u8; TOKEN_LEN.div_ceil(4) * 3])
                .is_ok_and(|len| len == 32);
        if well_formed {
            Ok(Token(raw.to_owned()))
        } else {
            Err(invalid_token())
        }
    }

    /// The token's text (put it in the accept link; never store or log it).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The hash kept at rest.
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

/// What `Debug` shows instead of a raw token or a text that carries one.
pub(crate) const REDACTED: Redacted = Redacted;

/// What stands for a token in a recorded text (a mail server's refusal quoting the link).
pub(crate) const REDACTED_TEXT: &str = "<redacted>";

/// Prints `<redacted>` (see [`REDACTED`]).
pub(crate) struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED_TEXT)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// `INVALID_TOKEN`: the same answer for malformed, unknown, used and revoked tokens.
pub(crate) fn invalid_token() -> Error {
    Error::new(ErrorCode::InvalidToken, "the invitation link is not valid")
        .with_help("ask the inviter to send a new invitation")
}

/// SHA-256 of a token: what stores keep and look up by.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    /// The hash as lowercase hex.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({})", &self.to_hex()[..8])
    }
}
