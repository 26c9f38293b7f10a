//! A deterministic made-up vocabulary with a Zipf-like frequency, so generated notes have
//! common and rare words like real text.

use rand::Rng;

/// `n` distinct pronounceable words.
pub fn vocabulary(n: usize) -> Vec<String> {
    const ONSETS: [&str; 16] = [
        "b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "st",
    ];
    const VOWELS: [&str; 6] = ["a", "e", "i", "o", "u", "ai"];
    const CODAS: [&str; 8] = ["", "n", "r", "s", "t", "l", "m", "x"];
    let syllable = |i: usize| {
        format!(
            "{}{}{}",
            ONSETS[i % ONSETS.len()],
            VOWELS[(i / ONSETS.len()) % VOWELS.len()],
            CODAS[(i / (ONSETS.len() * VOWELS.len())) % CODAS.len()]
        )
    };
    let per_syllable = ONSETS.len() * VOWELS.len() * CODAS.len();
    (0..n)
        .map(|i| {
            format!(
                "{}{}",
                syllable(i % per_syllable),
                syllable(i / per_syllable + 7)
            )
        })
        .collect()
}

/// A word drawn with probability roughly proportional to 1 / rank.
pub fn zipf_word<'a>(rng: &mut impl Rng, vocabulary: &'a [String]) -> &'a str {
    let n = vocabulary.len() as f64;
    let rank = (n.powf(rng.random::<f64>()) - 1.0) as usize;
    &vocabulary[rank.min(vocabulary.len() - 1)]
}

/// A sentence of `len` words.
pub fn sentence(rng: &mut impl Rng, vocabulary: &[String], len: usize) -> String {
    (0..len)
        .map(|_| zipf_word(rng, vocabulary))
        .collect::<Vec<_>>()
        .join(" ")
}
