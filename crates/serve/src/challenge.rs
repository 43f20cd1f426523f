//! HTTP-01 challenge answers, published by the ACME worker in the shared counters page and
//! read by any child asked for `/.well-known/acme-challenge/TOKEN`: no file is written and no
//! process but the server's own sees them.
//!
//! Four slots of 32 words after [`CHALLENGES_AT`]: the token's length, the answer's length, then
//! the token and the answer's bytes.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::status::{Counters, CHALLENGES_AT};

const SLOTS: usize = 4;
const SLOT_WORDS: usize = 32;
const DATA_BYTES: usize = (SLOT_WORDS - 2) * 8;

fn slot(words: &[AtomicU64], index: usize) -> &[AtomicU64] {
    let at = CHALLENGES_AT + index * SLOT_WORDS;
    &words[at..at + SLOT_WORDS]
}

/// Publishes the answer to `token` in slot `index` (0 to 3). False if it does not fit.
pub fn publish(counters: &Counters, index: usize, token: &str, answer: &str) -> bool {
    if index >= SLOTS || token.len() + answer.len() > DATA_BYTES || token.is_empty() {
        return false;
    }
    let words = slot(counters.words(), index);
    // Hide the slot while it changes: a reader sees the old answer, nothing, or the new one.
    words[0].store(0, Ordering::Release);
    let mut bytes = [0u8; DATA_BYTES];
    bytes[..token.len()].copy_from_slice(token.as_bytes());
    bytes[token.len()..token.len() + answer.len()].copy_from_slice(answer.as_bytes());
    for (word, chunk) in words[2..].iter().zip(bytes.chunks_exact(8)) {
        word.store(
            u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8])),
            Ordering::Relaxed,
        );
    }
    words[1].store(answer.len() as u64, Ordering::Relaxed);
    words[0].store(token.len() as u64, Ordering::Release);
    true
}

/// Removes every published answer.
pub fn clear(counters: &Counters) {
    for index in 0..SLOTS {
        slot(counters.words(), index)[0].store(0, Ordering::Release);
    }
}

/// The answer to `token`, if the worker published one.
pub fn answer(counters: &Counters, token: &[u8]) -> Option<Vec<u8>> {
    (0..SLOTS).find_map(|index| {
        let words = slot(counters.words(), index);
        let token_len = words[0].load(Ordering::Acquire) as usize;
        let answer_len = words[1].load(Ordering::Relaxed) as usize;
        if token_len == 0 || token_len != token.len() || token_len + answer_len > DATA_BYTES {
            return None;
        }
        let mut bytes = Vec::with_capacity(DATA_BYTES);
        for word in &words[2..] {
            bytes.extend_from_slice(&word.load(Ordering::Relaxed).to_le_bytes());
        }
        (bytes[..token_len] == *token).then(|| bytes[token_len..token_len + answer_len].to_vec())
    })
}
