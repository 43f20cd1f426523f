//! Session tickets that every child can open: sealed with keys kept in the shared counters
//! page, which the parent creates, rotates and hands over across re-exec.
//!
//! A forked child cannot share an in-memory session cache with its siblings, so resumption
//! rests on tickets. Two key slots live in the page: the current key seals new tickets; the
//! previous one still opens tickets issued before the last rotation. A ticket is
//! `key id (8) | nonce (12) | ChaCha20-Poly1305 ciphertext and tag`.
//!
//! Sealing and opening work in place in the one buffer rustls takes back (its trait returns a
//! `Vec`): no other allocation, and only the key the ticket names is set up.

use std::io;
use std::os::fd::AsFd;
use std::sync::atomic::Ordering;

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};

use crate::status::{Counters, TICKET_KEYS_AT, WORDS};
use crate::sys::SharedCounters;

/// How long a key seals new tickets before the next one takes over.
pub const ROTATE_EVERY: u64 = 12 * 3600;
/// How long a ticket is good for: it can be opened until the key after next replaces its key.
const LIFETIME: u32 = 2 * ROTATE_EVERY as u32;

/// Words per key slot: id, creation time, 32 key bytes.
const SLOT_WORDS: usize = 6;

/// The slot words of slot `index` (0 or 1), after the word that names the current slot.
fn slot_at(index: u64) -> usize {
    TICKET_KEYS_AT + 1 + (index as usize % 2) * SLOT_WORDS
}

/// Makes a first key if the page has none, or a new one when the current key is older than
/// [`ROTATE_EVERY`]. Run by the parent (at start and on its watchdog tick), never by a child.
pub fn rotate_if_due(counters: &Counters, now_unix: u64) -> io::Result<bool> {
    let words = counters.words();
    let current = words[TICKET_KEYS_AT].load(Ordering::Acquire);
    if current != 0 {
        let created = words[slot_at(current - 1) + 1].load(Ordering::Relaxed);
        if now_unix.saturating_sub(created) < ROTATE_EVERY {
            return Ok(false);
        }
    }
    let next = if current == 0 { 0 } else { current % 2 };
    let mut key = [0u8; 32];
    let mut id = [0u8; 8];
    let random = SystemRandom::new();
    random
        .fill(&mut key)
        .and_then(|()| random.fill(&mut id))
        .map_err(|_| io::Error::other("no randomness for a session-ticket key"))?;
    let at = slot_at(next);
    words[at].store(u64::from_le_bytes(id), Ordering::Relaxed);
    words[at + 1].store(now_unix, Ordering::Relaxed);
    for (i, chunk) in key.chunks_exact(8).enumerate() {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        words[at + 2 + i].store(word, Ordering::Relaxed);
    }
    words[TICKET_KEYS_AT].store(next + 1, Ordering::Release);
    Ok(true)
}

/// The ticketer a generation's rustls configuration uses: its own mapping of the counters
/// page, so it can live as long as rustls wants it.
pub struct Tickets {
    page: SharedCounters,
    random: SystemRandom,
}

impl Tickets {
    /// Maps the counters page for the ticketer.
    pub fn new(counters: &Counters) -> io::Result<Tickets> {
        let page = SharedCounters::new(counters.fd().as_fd(), WORDS)
            .map_err(|e| io::Error::other(format!("mapping the ticket keys: {e}")))?;
        Ok(Tickets {
            page,
            random: SystemRandom::new(),
        })
    }

    /// The id of the key in slot `index`.
    fn id(&self, index: u64) -> u64 {
        self.page.words()[slot_at(index)].load(Ordering::Relaxed)
    }

    /// The key in slot `index`: its id and its sealing key.
    fn key(&self, index: u64) -> Option<(u64, LessSafeKey)> {
        let words = self.page.words();
        let at = slot_at(index);
        let id = words[at].load(Ordering::Relaxed);
        let mut bytes = [0u8; 32];
        for (i, chunk) in bytes.chunks_exact_mut(8).enumerate() {
            chunk.copy_from_slice(&words[at + 2 + i].load(Ordering::Relaxed).to_le_bytes());
        }
        let key = UnboundKey::new(&CHACHA20_POLY1305, &bytes).ok()?;
        Some((id, LessSafeKey::new(key)))
    }

    fn current(&self) -> Option<u64> {
        match self.page.words()[TICKET_KEYS_AT].load(Ordering::Acquire) {
            0 => None,
            n => Some(n - 1),
        }
    }
}

impl std::fmt::Debug for Tickets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tickets(shared page)")
    }
}

impl rustls::server::ProducesTickets for Tickets {
    fn enabled(&self) -> bool {
        self.current().is_some()
    }

    fn lifetime(&self) -> u32 {
        LIFETIME
    }

    fn encrypt(&self, plain: &[u8]) -> Option<Vec<u8>> {
        let (id, key) = self.key(self.current()?)?;
        let mut nonce = [0u8; NONCE_LEN];
        self.random.fill(&mut nonce).ok()?;
        let tag_len = CHACHA20_POLY1305.tag_len();
        let mut ticket = Vec::with_capacity(8 + NONCE_LEN + plain.len() + tag_len);
        ticket.extend_from_slice(&id.to_le_bytes());
        ticket.extend_from_slice(&nonce);
        ticket.extend_from_slice(plain);
        let tag = key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(id.to_le_bytes()),
                &mut ticket[8 + NONCE_LEN..],
            )
            .ok()?;
        ticket.extend_from_slice(tag.as_ref());
        Some(ticket)
    }

    fn decrypt(&self, ticket: &[u8]) -> Option<Vec<u8>> {
        if ticket.len() < 8 + NONCE_LEN {
            return None;
        }
        let id = u64::from_le_bytes(ticket[..8].try_into().ok()?);
        let current = self.current()?;
        // The current key, or the one before it.
        let slot = [current, current + 1]
            .into_iter()
            .find(|&slot| self.id(slot) == id)?;
        let (_, key) = self.key(slot)?;
        let nonce = Nonce::try_assume_unique_for_key(&ticket[8..8 + NONCE_LEN]).ok()?;
        let mut opened = ticket[8 + NONCE_LEN..].to_vec();
        let len = key
            .open_in_place(nonce, Aad::from(id.to_le_bytes()), &mut opened)
            .ok()?
            .len();
        opened.truncate(len);
        Some(opened)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::server::ProducesTickets;

    /// A sealed ticket opens to what was sealed, with the key before the last rotation too;
    /// a changed byte or an unknown key opens nothing.
    #[test]
    fn tickets_open_to_what_was_sealed_and_nothing_else() {
        let counters = Counters::create().unwrap();
        assert!(rotate_if_due(&counters, 1_000).unwrap());
        let tickets = Tickets::new(&counters).unwrap();
        let plain = b"session state, resumption secret and all".to_vec();
        let ticket = tickets.encrypt(&plain).unwrap();
        assert_eq!(ticket.len(), 8 + NONCE_LEN + plain.len() + 16);
        assert_eq!(tickets.decrypt(&ticket), Some(plain.clone()));
        let mut forged = ticket.clone();
        *forged.last_mut().unwrap() ^= 1;
        assert_eq!(tickets.decrypt(&forged), None);
        assert!(rotate_if_due(&counters, 1_000 + ROTATE_EVERY).unwrap());
        assert_eq!(
            tickets.decrypt(&ticket),
            Some(plain.clone()),
            "previous key"
        );
        let newer = tickets.encrypt(&plain).unwrap();
        assert!(rotate_if_due(&counters, 1_000 + 2 * ROTATE_EVERY).unwrap());
        assert_eq!(tickets.decrypt(&ticket), None, "two rotations ago");
        assert_eq!(tickets.decrypt(&newer), Some(plain));
        assert_eq!(tickets.decrypt(&ticket[..10]), None);
    }
}
