//! Time-ordered ids: the UUIDv7 layout from the clock, a 12-bit sequence that keeps ids
//! minted within one millisecond in order (in this process), and random bits.
//!
//! The random bits only keep ids of different processes apart (ids are not secrets:
//! every lookup is scoped by business). So they come from a [`RandomBlock`], one draw
//! per [`IDS_PER_DRAW`] ids instead of one system call per id, never shared with a
//! forked child.

use std::sync::Mutex;

use super::random_block::RandomBlock;
use crate::error::Result;
use crate::random::RandomSource;

/// Random bytes each id takes (the 12-bit sequence overwrites the first 12 bits).
const BYTES_PER_ID: usize = 10;

/// Ids minted per draw from the random source.
const IDS_PER_DRAW: usize = 32;

/// Mints ids for one service; safe to share across threads.
#[derive(Debug, Default)]
pub(crate) struct IdMinter {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The last id's millisecond and sequence.
    millis: u64,
    seq: u16,
    /// Random bits drawn ahead for the next ids.
    random: RandomBlock<{ BYTES_PER_ID * IDS_PER_DRAW }>,
}

impl IdMinter {
    /// The next id for the clock reading `now_millis` (milliseconds since the epoch), in
    /// the process `pid`.
    pub(crate) fn mint(
        &self,
        now_millis: u64,
        pid: u32,
        random: &dyn RandomSource,
    ) -> Result<uuid::Uuid> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut bytes: [u8; BYTES_PER_ID] = state.random.take(pid, random)?;
        (state.millis, state.seq) = match (state.millis, state.seq) {
            (millis, seq) if now_millis <= millis && seq < 0x0FFF => (millis, seq + 1),
            (millis, _) if now_millis <= millis => (millis + 1, 0),
            _ => (now_millis, 0),
        };
        let [hi, lo] = state.seq.to_be_bytes();
        bytes[0] = hi & 0x0F;
        bytes[1] = lo;
        Ok(uuid::Builder::from_unix_timestamp_millis(state.millis, &bytes).into_uuid())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::random::SeededRandom;

    #[test]
    fn ids_are_unique_and_ordered_within_one_millisecond() {
        let minter = IdMinter::default();
        let random = SeededRandom::new(7);
        let ids: Vec<_> = (0..5_000)
            .map(|_| minter.mint(1_000, 1, &random).unwrap())
            .collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "strictly increasing");
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
    }

    #[test]
    fn a_clock_that_goes_back_does_not_reorder_ids() {
        let minter = IdMinter::default();
        let random = SeededRandom::new(7);
        let later = minter.mint(2_000, 1, &random).unwrap();
        let earlier_clock = minter.mint(1_000, 1, &random).unwrap();
        assert!(earlier_clock > later);
    }

    #[test]
    fn random_bits_differ_across_a_block_boundary() {
        let minter = IdMinter::default();
        let random = SeededRandom::new(7);
        let tails: HashSet<_> = (0..IDS_PER_DRAW * 3)
            .map(|_| minter.mint(1_000, 1, &random).unwrap().as_bytes()[8..].to_vec())
            .collect();
        assert_eq!(
            tails.len(),
            IDS_PER_DRAW * 3,
            "every id has its own random bits"
        );
    }

    #[test]
    fn a_failing_random_source_fails_the_mint() {
        struct Broken;
        impl RandomSource for Broken {
            fn fill(&self, _: &mut [u8]) -> Result<()> {
                Err(crate::error::Error::internal("no entropy"))
            }
        }
        assert!(IdMinter::default().mint(1, 1, &Broken).is_err());
    }
}
