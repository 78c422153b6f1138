//! Answers a thread keeps for questions asked before (a call's mapping, an ARN's resource
//! type): found by the question's hash and compared in full, so a hash only says where to look;
//! kept from the second time a question is seen, since most are asked once only (an S3 object,
//! an item by key) and keeping those would cost more than answering them again.

use std::collections::HashMap;

/// Kept answers, with the hashes of the questions seen in `SEEN_SLOTS` slots (a power of two):
/// a hash is remembered in the slot its low bits name, in place of the one there before, so a
/// question whose slot was taken meanwhile is kept a sighting later. Whether a question is kept
/// only saves work; the answer is always its own.
pub(crate) struct KeptAnswers<Q, A, const SEEN_SLOTS: usize> {
    /// Answers by the hash of their question.
    kept: HashMap<u64, Vec<(Q, A)>, foldhash::fast::FixedState>,
    /// Hashes of the questions seen (kept or not), allocated at the first.
    seen: Vec<u64>,
    count: usize,
}

impl<Q, A, const SEEN_SLOTS: usize> Default for KeptAnswers<Q, A, SEEN_SLOTS> {
    fn default() -> Self {
        KeptAnswers { kept: HashMap::default(), seen: Vec::new(), count: 0 }
    }
}

impl<Q, A, const SEEN_SLOTS: usize> KeptAnswers<Q, A, SEEN_SLOTS> {
    /// Answers kept.
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// The answer kept for the question of `hash` that `is` says is the one asked.
    pub(crate) fn find(&self, hash: u64, is: impl Fn(&Q) -> bool) -> Option<&A> {
        self.kept.get(&hash).and_then(|b| b.iter().find(|(q, _)| is(q))).map(|(_, a)| a)
    }

    /// True when a question of `hash` was seen before (its answer is then worth keeping);
    /// otherwise remembers that it was.
    pub(crate) fn seen_before(&mut self, hash: u64) -> bool {
        if self.seen.is_empty() {
            self.seen = vec![0; SEEN_SLOTS];
        }
        let slot = &mut self.seen[(hash as usize) & (SEEN_SLOTS - 1)];
        if *slot == hash {
            return true;
        }
        *slot = hash;
        false
    }

    /// Keeps `answer` for `question`, of `hash`.
    pub(crate) fn keep(&mut self, hash: u64, question: Q, answer: A) {
        self.kept.entry(hash).or_default().push((question, answer));
        self.count += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_is_worth_keeping_from_its_second_sighting_and_its_answer_is_found_by_comparison() {
        let mut k: KeptAnswers<&str, u32, 4> = KeptAnswers::default();
        assert!(!k.seen_before(7));
        assert!(k.seen_before(7));
        k.keep(7, "seven", 7);
        // Two questions of one hash: each finds its own answer.
        k.keep(7, "other", 70);
        assert_eq!(k.find(7, |q| *q == "seven"), Some(&7));
        assert_eq!(k.find(7, |q| *q == "other"), Some(&70));
        assert_eq!(k.find(7, |q| *q == "none"), None);
        assert_eq!(k.find(8, |q| *q == "seven"), None);
        assert_eq!(k.len(), 2);
        // A hash in the same slot (7 + 4) takes it: 7 is then a first sighting again.
        assert!(!k.seen_before(11));
        assert!(!k.seen_before(7));
    }
}
