//! Seed mixing for everything generated lazily or per item: a repository's
//! deep data, an `advance` step, a commit sha. Each stream is seeded from a
//! splitmix64 hash of its inputs, so the data of one repository never depends
//! on which other repositories were generated first.

/// splitmix64 of `a` combined with `b`: a well-spread 64-bit seed.
pub(crate) fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `mix` folded over several inputs.
pub(crate) fn mix_all(parts: &[u64]) -> u64 {
    parts.iter().fold(0x243F_6A88_85A3_08D3, |h, &p| mix(h, p))
}

/// A uniform float in [0, 1) from a hash.
pub(crate) fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// A 40-hex-digit git object id derived from `parts`.
pub(crate) fn sha(parts: &[u64]) -> String {
    let a = mix_all(parts);
    let b = mix(a, 1);
    let c = mix(a, 2);
    format!("{a:016x}{b:016x}{:08x}", c >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shas_are_40_hex_and_distinct() {
        let a = sha(&[1, 2, 3]);
        assert_eq!(a.len(), 40);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_ne!(a, sha(&[1, 2, 4]));
        assert_eq!(a, sha(&[1, 2, 3]));
        let u = unit(mix(5, 6));
        assert!((0.0..1.0).contains(&u));
    }
}
