//! A row's optional strings in one allocation (one pointer in the row, one small block
//! on the heap instead of one block per string).
//!
//! Layout: for each field in order, a LEB128 varint header, then the field's bytes. The
//! header is 0 for none, else `(length << 1 | decoded) + 1`: `decoded` marks a field
//! kept as the bytes its base64url text encodes (3/4 of the size; see
//! [`Packing::Base64Url`]). Trailing absent fields are left out, so a row without text
//! allocates nothing.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{Error, Result};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct PackedText(Box<[u8]>);

/// How a field is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Packing {
    /// As its UTF-8 bytes.
    Plain,
    /// Text that is canonical unpadded base64url (sealed tokens) as the bytes it
    /// encodes, re-encoded when read; any other text as its UTF-8 bytes.
    Base64Url,
}

/// One field's header and bytes.
struct Field<'a> {
    bytes: &'a [u8],
    decoded: bool,
}

/// A field on its way in: its text's bytes, or the bytes its base64url text encodes.
struct Incoming<'a> {
    bytes: Cow<'a, [u8]>,
    decoded: bool,
}

impl<'a> Incoming<'a> {
    fn plain(text: &'a str) -> Self {
        Incoming {
            bytes: Cow::Borrowed(text.as_bytes()),
            decoded: false,
        }
    }

    fn decoded(bytes: Vec<u8>) -> Self {
        Incoming {
            bytes: Cow::Owned(bytes),
            decoded: true,
        }
    }

    /// The varint header: `(length << 1 | decoded) + 1`.
    fn header(&self) -> usize {
        (self.bytes.len() << 1 | usize::from(self.decoded)) + 1
    }

    /// Bytes the field takes packed: its header, then its bytes.
    fn packed_len(&self) -> usize {
        varint_len(self.header()) + self.bytes.len()
    }
}

impl PackedText {
    /// Packs `fields` into one allocation of exactly the size they need (a row keeps
    /// its text for life, so no spare capacity, and no reallocation to shed it).
    pub(super) fn pack<const N: usize>(fields: [(Option<&str>, Packing); N]) -> PackedText {
        let fields = fields.map(|(text, packing)| {
            text.map(|text| match packing {
                Packing::Base64Url => {
                    canonical_base64url(text).map_or(Incoming::plain(text), Incoming::decoded)
                }
                Packing::Plain => Incoming::plain(text),
            })
        });
        // Trailing absent fields are left out.
        let used = fields
            .iter()
            .rposition(Option::is_some)
            .map_or(0, |last| last + 1);
        let fields = fields.get(..used).unwrap_or_default();
        let size = fields
            .iter()
            .map(|field| field.as_ref().map_or(1, Incoming::packed_len))
            .sum();
        let mut packed = Vec::with_capacity(size);
        for field in fields {
            match field {
                None => packed.push(0),
                Some(field) => {
                    push_varint(&mut packed, field.header());
                    packed.extend_from_slice(&field.bytes);
                }
            }
        }
        PackedText(packed.into_boxed_slice())
    }

    /// The bytes of field `index` if it is present and was packed [`Packing::Plain`].
    pub(super) fn plain_bytes(&self, index: usize) -> Option<&[u8]> {
        self.field(index)
            .filter(|field| !field.decoded)
            .map(|field| field.bytes)
    }

    /// Field `index` as text if it is present and was packed [`Packing::Plain`].
    pub(super) fn plain_str(&self, index: usize) -> Result<Option<&str>> {
        self.plain_bytes(index)
            .map(std::str::from_utf8)
            .transpose()
            .map_err(|_| Error::internal("the in-memory store holds text that is not UTF-8"))
    }

    /// Field `index` as a string.
    pub(super) fn string(&self, index: usize) -> Result<Option<String>> {
        let Some(field) = self.field(index) else {
            return Ok(None);
        };
        if field.decoded {
            return Ok(Some(URL_SAFE_NO_PAD.encode(field.bytes)));
        }
        std::str::from_utf8(field.bytes)
            .map(|text| Some(text.to_owned()))
            .map_err(|_| Error::internal("the in-memory store holds text that is not UTF-8"))
    }

    fn field(&self, index: usize) -> Option<Field<'_>> {
        let mut rest: &[u8] = &self.0;
        for _ in 0..index {
            let (header, after) = read_varint(rest)?;
            rest = after.get(header.saturating_sub(1) >> 1..)?;
        }
        let (header, after) = read_varint(rest)?;
        let header = header.checked_sub(1)?;
        Some(Field {
            bytes: after.get(..header >> 1)?,
            decoded: header & 1 == 1,
        })
    }
}

/// The bytes `text` encodes, if re-encoding them gives `text` back exactly. The engine
/// decodes only canonical text: no padding, no stray trailing bits, no other alphabet.
fn canonical_base64url(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// Bytes `value` takes as a LEB128 varint.
fn varint_len(value: usize) -> usize {
    let bits = usize::BITS - value.leading_zeros();
    usize::try_from(bits.div_ceil(7).max(1)).unwrap_or(usize::MAX)
}

fn push_varint(bytes: &mut Vec<u8>, mut value: usize) {
    while value >= 0x80 {
        bytes.push((value & 0x7F) as u8 | 0x80);
        value >>= 7;
    }
    bytes.push(value as u8);
}

fn read_varint(bytes: &[u8]) -> Option<(usize, &[u8])> {
    let mut value = 0usize;
    for (i, byte) in bytes.iter().enumerate() {
        let bits = usize::from(byte & 0x7F).checked_shl(u32::try_from(7 * i).ok()?)?;
        value |= bits;
        if byte & 0x80 == 0 {
            return Some((value, bytes.get(i + 1..)?));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{PackedText, Packing, push_varint, varint_len};

    #[test]
    fn fields_round_trip() {
        let long = "x".repeat(70_000);
        let fields = [
            Some("ab"),
            None,
            Some(""),
            Some(long.as_str()),
            Some("é"),
            None,
        ];
        let packed = PackedText::pack(fields.map(|f| (f, Packing::Plain)));
        for (i, field) in fields.iter().enumerate() {
            assert_eq!(packed.plain_bytes(i), field.map(str::as_bytes), "field {i}");
            assert_eq!(packed.string(i).unwrap().as_deref(), *field);
        }
        assert_eq!(packed.plain_bytes(9), None);
    }

    #[test]
    fn base64url_text_is_kept_decoded_and_read_back_exactly() {
        let sealed = "3q2-7w_AAAE"; // canonical: 8 bytes
        let fields = [
            sealed,
            "3q2-7w_AAAF", // non-zero trailing bits: not canonical
            "3q2+7w/AAAE", // standard alphabet
            "QQ==",        // padded
            "abc!",
            "",
            "QQ",
        ];
        let packed = PackedText::pack(fields.map(|f| (Some(f), Packing::Base64Url)));
        for (i, field) in fields.iter().enumerate() {
            assert_eq!(
                packed.string(i).unwrap().as_deref(),
                Some(*field),
                "{field}"
            );
        }
        assert_eq!(packed.plain_bytes(0), None, "kept decoded");
        assert_eq!(packed.plain_bytes(1), Some(fields[1].as_bytes()));
        let one = PackedText::pack([(Some(sealed), Packing::Base64Url)]);
        assert_eq!(one.0.len(), 1 + 8);
    }

    proptest::proptest! {
        /// Whatever is packed as base64url reads back exactly, canonical or not.
        #[test]
        fn base64url_fields_read_back_exactly(text in "[A-Za-z0-9_=+/-]{0,13}") {
            let packed = PackedText::pack([(Some(text.as_str()), Packing::Base64Url)]);
            proptest::prop_assert_eq!(packed.string(0).unwrap(), Some(text));
        }
    }

    #[test]
    fn varint_lengths_match_what_is_written() {
        for value in [0, 1, 127, 128, 16_383, 16_384, 1 << 35, usize::MAX] {
            let mut written = Vec::new();
            push_varint(&mut written, value);
            assert_eq!(varint_len(value), written.len(), "{value}");
        }
    }

    #[test]
    fn no_text_allocates_nothing() {
        let none = (None, Packing::Plain);
        assert_eq!(PackedText::pack([none, none]).0.len(), 0);
        assert_eq!(
            PackedText::pack([(Some("a"), Packing::Plain), none])
                .0
                .len(),
            2
        );
    }
}
