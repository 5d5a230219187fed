//! Random bytes drawn ahead, for values that must be unpredictable and distinct but are
//! not secrets: the random bits of ids and the nonces of sealed tokens. One draw from
//! the random source (a `getrandom` system call in production) serves many values
//! instead of one. Tokens, which are secrets, never come from a block: each is drawn on
//! its own (`Token::mint`).
//!
//! A block is never used by two processes: after a `fork`, the child, which passes
//! another process id, discards the block it inherited and draws its own. The caller
//! reads the process id once per unit of work (`Unit`): a `fork` cannot split a unit,
//! since the child keeps only the thread that forked.

use crate::error::Result;
use crate::random::RandomSource;

/// `N` random bytes drawn at once, handed out in order, for one process.
#[derive(Debug)]
pub(crate) struct RandomBlock<const N: usize> {
    bytes: [u8; N],
    /// How many of `bytes` were handed out.
    used: usize,
    /// The process that drew `bytes`.
    pid: u32,
}

impl<const N: usize> Default for RandomBlock<N> {
    /// An empty block: the first `take` draws.
    fn default() -> Self {
        RandomBlock {
            bytes: [0; N],
            used: N,
            pid: 0,
        }
    }
}

impl<const N: usize> RandomBlock<N> {
    /// The next `K` unspent bytes for process `pid`, drawing a new block when fewer than
    /// `K` are left or the block was drawn by another process (inherited from a parent).
    /// `K` larger than `N` does not compile.
    pub(crate) fn take<const K: usize>(
        &mut self,
        pid: u32,
        random: &dyn RandomSource,
    ) -> Result<[u8; K]> {
        const { assert!(K <= N, "a value larger than its block") };
        if self.used + K > N || self.pid != pid {
            random.fill(&mut self.bytes)?;
            self.used = 0;
            self.pid = pid;
        }
        let mut taken = [0u8; K];
        if let Some(next) = self.bytes.get(self.used..self.used + K) {
            taken.copy_from_slice(next);
        }
        self.used += K;
        Ok(taken)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::random::SeededRandom;

    /// Counts the draws made through it.
    struct Counting {
        inner: SeededRandom,
        draws: AtomicUsize,
    }

    impl RandomSource for Counting {
        fn fill(&self, bytes: &mut [u8]) -> Result<()> {
            self.draws.fetch_add(1, Ordering::Relaxed);
            self.inner.fill(bytes)
        }
    }

    fn counting() -> Counting {
        Counting {
            inner: SeededRandom::new(9),
            draws: AtomicUsize::new(0),
        }
    }

    #[test]
    fn one_draw_serves_a_block_and_values_do_not_repeat() {
        let random = counting();
        let mut block = RandomBlock::<{ 24 * 4 }>::default();
        let values: Vec<[u8; 24]> = (0..12).map(|_| block.take(1, &random).unwrap()).collect();
        assert_eq!(random.draws.load(Ordering::Relaxed), 3, "4 values per draw");
        assert_eq!(values.iter().collect::<HashSet<_>>().len(), 12);
    }

    #[test]
    fn a_block_that_cannot_hold_the_next_value_is_drawn_again_whole() {
        let random = counting();
        let mut block = RandomBlock::<10>::default();
        let first: [u8; 6] = block.take(1, &random).unwrap();
        let second: [u8; 6] = block.take(1, &random).unwrap();
        assert_eq!(random.draws.load(Ordering::Relaxed), 2);
        assert_ne!(first, second);
    }

    #[test]
    fn another_process_never_reuses_the_inherited_block() {
        let random = counting();
        let mut parent = RandomBlock::<{ 24 * 4 }>::default();
        let _: [u8; 24] = parent.take(1, &random).unwrap();
        // A fork copies the block, unspent bytes and all.
        let mut child = RandomBlock {
            bytes: parent.bytes,
            used: parent.used,
            pid: parent.pid,
        };
        let from_parent: [u8; 24] = parent.take(1, &random).unwrap();
        let from_child: [u8; 24] = child.take(2, &random).unwrap();
        assert_ne!(from_parent, from_child, "the child drew a block of its own");
        assert_eq!(random.draws.load(Ordering::Relaxed), 2);
    }
}
