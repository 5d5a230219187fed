//! Time-ordered ids: the UUIDv7 layout from the clock, a 12-bit sequence that keeps ids
//! minted within one millisecond in order (in this process), and random bits.
//!
//! The random bits only keep ids of different processes apart (ids are not secrets:
//! every lookup is scoped by business). So they are drawn from the random source in
//! blocks, one draw per [`IDS_PER_DRAW`] ids instead of one system call per id. A block
//! is never used by two processes: after a `fork`, the child mints with another process
//! id and discards the block it inherited. The caller reads the process id, once per
//! unit of work (`Unit::new_id`): a `fork` cannot split a unit, since the child keeps
//! only the thread that forked.

use std::sync::Mutex;

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

#[derive(Debug)]
struct State {
    /// The last id's millisecond and sequence.
    millis: u64,
    seq: u16,
    /// Random bytes drawn ahead, `used` of them spent, for process `pid`.
    block: [u8; BYTES_PER_ID * IDS_PER_DRAW],
    used: usize,
    pid: u32,
}

impl Default for State {
    fn default() -> Self {
        State {
            millis: 0,
            seq: 0,
            block: [0; BYTES_PER_ID * IDS_PER_DRAW],
            used: BYTES_PER_ID * IDS_PER_DRAW,
            pid: 0,
        }
    }
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
        let mut bytes = state.take_random(pid, random)?;
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

impl State {
    /// The next unspent random bytes, drawing a new block when this one is spent or
    /// was drawn by another process (inherited from a parent).
    fn take_random(&mut self, pid: u32, random: &dyn RandomSource) -> Result<[u8; BYTES_PER_ID]> {
        if self.used + BYTES_PER_ID > self.block.len() || self.pid != pid {
            random.fill(&mut self.block)?;
            self.used = 0;
            self.pid = pid;
        }
        let mut bytes = [0u8; BYTES_PER_ID];
        if let Some(next) = self.block.get(self.used..self.used + BYTES_PER_ID) {
            bytes.copy_from_slice(next);
        }
        self.used += BYTES_PER_ID;
        Ok(bytes)
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

    /// Counts the draws it serves (each from a seeded source).
    struct CountingRandom {
        draws: std::sync::atomic::AtomicUsize,
        inner: SeededRandom,
    }

    impl RandomSource for CountingRandom {
        fn fill(&self, bytes: &mut [u8]) -> Result<()> {
            self.draws
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.inner.fill(bytes)
        }
    }

    #[test]
    fn another_process_id_discards_the_block_it_inherited() {
        let minter = IdMinter::default();
        let random = CountingRandom {
            draws: 0.into(),
            inner: SeededRandom::new(7),
        };
        let draws = || random.draws.load(std::sync::atomic::Ordering::Relaxed);
        minter.mint(1_000, 10, &random).unwrap();
        assert_eq!(draws(), 1);
        minter.mint(1_000, 10, &random).unwrap();
        assert_eq!(draws(), 1, "the same process goes on with its block");
        // A forked child shares the state: it must not mint from the parent's block.
        minter.mint(1_000, 11, &random).unwrap();
        assert_eq!(draws(), 2, "a new process draws a block of its own");
        for _ in 1..IDS_PER_DRAW {
            minter.mint(1_000, 11, &random).unwrap();
        }
        assert_eq!(draws(), 2, "the child's block serves its next ids");
        minter.mint(1_000, 11, &random).unwrap();
        assert_eq!(draws(), 3, "until it is spent");
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
