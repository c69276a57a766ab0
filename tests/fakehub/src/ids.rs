//! GitHub's legacy global node ids. A legacy node id is the standard base64
//! (with padding) of `"{len}:{Type}{database id}"`, where `len` is the length
//! of the type name, e.g. repository 1296269 is `base64("010:Repository1296269")`
//! = `MDEwOlJlcG9zaXRvcnkxMjk2MjY5`. This module encodes and decodes them; no
//! external base64 crate is needed for a few dozen lines.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with `=` padding.
pub fn base64_encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(ALPHABET[(n >> 18) as usize & 63] as char);
        out.push(ALPHABET[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 { ALPHABET[(n >> 6) as usize & 63] as char } else { '=' });
        out.push(if chunk.len() > 2 { ALPHABET[n as usize & 63] as char } else { '=' });
    }
    out
}

/// Standard base64, padding optional. `None` on any invalid character.
pub fn base64_decode(input: &str) -> Option<Vec<u8>> {
    let trimmed = input.trim_end_matches('=');
    let mut out = Vec::with_capacity(trimmed.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in trimmed.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

pub(crate) fn legacy(type_name: &str, id: u64) -> String {
    // GitHub writes the type name's length with one leading zero: `04:User`, `010:Repository`.
    base64_encode(format!("0{}:{type_name}{id}", type_name.len()).as_bytes())
}

/// Node id of a repository, e.g. 1296269 -> `MDEwOlJlcG9zaXRvcnkxMjk2MjY5`.
pub fn repo_node_id(id: u64) -> String {
    // Hot path of universe generation: no `format!`.
    let mut buf = [0u8; 40];
    let prefix = b"010:Repository";
    buf[..prefix.len()].copy_from_slice(prefix);
    let mut digits = [0u8; 20];
    let mut n = id;
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for i in 0..len {
        buf[prefix.len() + i] = digits[len - 1 - i];
    }
    base64_encode(&buf[..prefix.len() + len])
}

/// Node id of a user (`MDQ6VXNlcjE=` for user 1).
pub fn user_node_id(id: u64) -> String {
    base64_encode(format!("04:User{id}").as_bytes())
}

/// Node id of an organization (`MDEyOk9yZ2FuaXphdGlvbjE=` for org 1).
pub fn org_node_id(id: u64) -> String {
    legacy("Organization", id)
}

/// Node id of a license (`MDc6TGljZW5zZTEz` for MIT, license 13).
pub fn license_node_id(id: u32) -> String {
    base64_encode(format!("07:License{id}").as_bytes())
}

/// Node id of an issue (`base64("05:Issue{id}")`).
pub fn issue_node_id(id: u64) -> String {
    legacy("Issue", id)
}

/// Node id of a pull request (`base64("011:PullRequest{id}")`).
pub fn pull_node_id(id: u64) -> String {
    legacy("PullRequest", id)
}

/// Node id of a workflow run.
pub fn run_node_id(id: u64) -> String {
    legacy("WorkflowRun", id)
}

/// Node id of a workflow.
pub fn workflow_node_id(id: u64) -> String {
    legacy("Workflow", id)
}

/// Node id of a label.
pub fn label_node_id(id: u64) -> String {
    legacy("Label", id)
}

/// Node id of a commit (`base64("06:Commit{repo_id}:{sha}")`).
pub fn commit_node_id(repo_id: u64, sha: &str) -> String {
    base64_encode(format!("06:Commit{repo_id}:{sha}").as_bytes())
}

/// (type name, database id) of a legacy node id of the form `"{len}:{Type}{digits}"`.
pub fn parse_node_id(node_id: &str) -> Option<(String, u64)> {
    let bytes = base64_decode(node_id)?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let (len, rest) = text.split_once(':')?;
    let len: usize = len.parse().ok()?;
    let (type_name, digits) = (rest.get(..len)?, rest.get(len..)?);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((type_name.to_string(), digits.parse().ok()?))
}

/// The database id inside a legacy repository node id, if it is one.
pub fn parse_repo_node_id(node_id: &str) -> Option<u64> {
    let bytes = base64_decode(node_id)?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let digits = text.strip_prefix("010:Repository")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Type prefixes of GitHub's next-format node ids for top-level objects, whose payload is the
/// MessagePack array `[0, database id]`: `R_kgDOABPHjQ` is repository 1296269.
const NEXT_PREFIXES: &[(&str, &str)] = &[("R_", "Repository"), ("U_", "User"), ("O_", "Organization")];

/// A top-level object's next-format node id (`X-Github-Next-Global-ID: 1` shows it for every
/// object; GitHub resolves both formats).
pub fn next_node_id(type_name: &str, id: u64) -> Option<String> {
    let (prefix, _) = NEXT_PREFIXES.iter().find(|(_, t)| *t == type_name)?;
    let mut packed = vec![0x92, 0x00];
    match id {
        0..=0x7f => packed.push(id as u8),
        0x80..=0xff => packed.extend([0xcc, id as u8]),
        0x100..=0xffff => {
            packed.push(0xcd);
            packed.extend((id as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            packed.push(0xce);
            packed.extend((id as u32).to_be_bytes());
        }
        _ => {
            packed.push(0xcf);
            packed.extend(id.to_be_bytes());
        }
    }
    let url_safe = base64_encode(&packed).trim_end_matches('=').replace('+', "-").replace('/', "_");
    Some(format!("{prefix}{url_safe}"))
}

/// (type name, database id) of a next-format top-level node id (see [`next_node_id`]).
pub fn parse_next_node_id(node_id: &str) -> Option<(String, u64)> {
    let (prefix, type_name) = NEXT_PREFIXES.iter().find(|(p, _)| node_id.starts_with(p))?;
    let payload = &node_id[prefix.len()..];
    if payload.contains(['+', '/', '=']) {
        return None;
    }
    let bytes = base64_decode(&payload.replace('-', "+").replace('_', "/"))?;
    let (head, rest) = bytes.split_first_chunk::<2>()?;
    if *head != [0x92, 0x00] {
        return None;
    }
    let id = match rest {
        [small] if *small < 0x80 => u64::from(*small),
        [0xcc, b] => u64::from(*b),
        [0xcd, b @ ..] => u64::from(u16::from_be_bytes(<[u8; 2]>::try_from(b).ok()?)),
        [0xce, b @ ..] => u64::from(u32::from_be_bytes(<[u8; 4]>::try_from(b).ok()?)),
        [0xcf, b @ ..] => u64::from_be_bytes(<[u8; 8]>::try_from(b).ok()?),
        _ => return None,
    };
    // Only the shortest encoding is GitHub's.
    (next_node_id(type_name, id)? == node_id).then(|| (type_name.to_string(), id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_node_ids() {
        assert_eq!(repo_node_id(1296269), "MDEwOlJlcG9zaXRvcnkxMjk2MjY5");
        assert_eq!(user_node_id(1), "MDQ6VXNlcjE=");
        assert_eq!(org_node_id(1), "MDEyOk9yZ2FuaXphdGlvbjE=");
        assert_eq!(license_node_id(13), "MDc6TGljZW5zZTEz");
    }

    #[test]
    fn next_format_ids_are_messagepack_in_url_safe_base64() {
        // GitHub's migration guide: user `MDQ6VXNlcjM0MDczMDM=` is `U_kgDOADP9xw`.
        assert_eq!(parse_node_id("MDQ6VXNlcjM0MDczMDM="), Some(("User".into(), 3407303)));
        assert_eq!(next_node_id("User", 3407303).as_deref(), Some("U_kgDOADP9xw"));
        assert_eq!(next_node_id("Repository", 1296269).as_deref(), Some("R_kgDOABPHjQ"));
        for id in [0u64, 1, 127, 128, 255, 256, 65535, 65536, 1296269, u64::from(u32::MAX), 1 << 40] {
            let text = next_node_id("Repository", id).unwrap();
            assert_eq!(parse_next_node_id(&text), Some(("Repository".into(), id)), "{text}");
        }
        assert_eq!(parse_next_node_id("R_kgDOABPHjQ="), None);
        assert_eq!(parse_next_node_id("R_kgDNAAE"), None, "a u16 where a fixint fits is not GitHub's");
        assert_eq!(parse_next_node_id("X_kgDOABPHTQ"), None);
        assert_eq!(next_node_id("Issue", 1), None);
    }

    #[test]
    fn round_trip() {
        for id in [1u64, 9, 10, 99, 1296269, 987654321012] {
            assert_eq!(parse_repo_node_id(&repo_node_id(id)), Some(id));
        }
        assert_eq!(parse_repo_node_id("not base64!"), None);
        assert_eq!(parse_repo_node_id(&user_node_id(5)), None);
        assert_eq!(parse_repo_node_id(""), None);
        assert_eq!(parse_node_id(&issue_node_id(42)), Some(("Issue".into(), 42)));
        assert_eq!(parse_node_id(&pull_node_id(7)), Some(("PullRequest".into(), 7)));
        assert_eq!(parse_node_id(&repo_node_id(9)), Some(("Repository".into(), 9)));
        assert_eq!(parse_node_id(&user_node_id(3)), Some(("User".into(), 3)));
        assert_eq!(parse_node_id("garbage"), None);
        assert_eq!(issue_node_id(1), base64_encode(b"05:Issue1"));
        for len in 0..10 {
            let data: Vec<u8> = (0..len).map(|i: u8| i.wrapping_mul(37).wrapping_add(1)).collect();
            assert_eq!(base64_decode(&base64_encode(&data)), Some(data));
        }
    }
}
