//! Stored times as the targets want them, without an allocation per value: as
//! microseconds since the Unix epoch, parsed by hand: a million rows hold millions of times.

/// Microseconds since 1970-01-01T00:00:00Z of an RFC 3339 time as the store writes them
/// (`2026-11-27T18:50:19.073Z`), also with an offset instead of `Z`, a space or `t` instead of
/// `T`, any number of fraction digits (beyond microseconds cut off) or no zone at all (UTC).
pub fn micros(text: &[u8]) -> Option<i64> {
    if text.len() < 19 {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        text[range].iter().try_fold(0i64, |n, b| b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0')))
    };
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if separators.iter().any(|(at, byte)| text[*at] != *byte) || !matches!(text[10], b'T' | b't' | b' ') {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = &text[19..];
    let mut fraction = 0i64;
    if let Some(digits) = rest.strip_prefix(b".") {
        let count = digits.iter().take_while(|b| b.is_ascii_digit()).count();
        if count == 0 {
            return None;
        }
        for place in 0..6 {
            let digit = digits.get(place).filter(|_| place < count).map_or(0, |b| i64::from(b - b'0'));
            fraction = fraction * 10 + digit;
        }
        rest = &digits[count..];
    }
    let offset = match rest {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] | [sign @ (b'+' | b'-'), h1, h2, m1, m2] => {
            let two = |a: &u8, b: &u8| -> Option<i64> {
                (a.is_ascii_digit() && b.is_ascii_digit()).then(|| i64::from(a - b'0') * 10 + i64::from(b - b'0'))
            };
            let (hours, minutes) = (two(h1, h2)?, two(m1, m2)?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let seconds = hours * 3600 + minutes * 60;
            if *sign == b'+' { seconds } else { -seconds }
        }
        _ => return None,
    };
    let seconds = ((days_from_civil(year, month, day) * 24 + hour) * 60 + minute) * 60 + second - offset;
    Some(seconds * 1_000_000 + fraction)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a date in the proleptic Gregorian calendar (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(text: &str) -> i64 {
        let at = humantime::parse_rfc3339_weak(text).unwrap();
        at.duration_since(std::time::UNIX_EPOCH).unwrap().as_micros() as i64
    }

    #[test]
    fn times_become_microseconds_since_the_epoch() {
        assert_eq!(micros(b"1970-01-01T00:00:01Z"), Some(1_000_000));
        assert_eq!(micros(b"2026-11-27T18:50:19.073Z"), Some(1_795_805_419_073_000));
        assert_eq!(micros(b"2026-11-27T18:50:19.0731239Z"), Some(1_795_805_419_073_123));
        assert_eq!(micros(b"2026-11-27 20:50:19+02:00"), Some(1_795_805_419_000_000));
        assert_eq!(micros(b"2026-11-27T16:20:19-0230"), Some(1_795_805_419_000_000));
        assert_eq!(micros(b"2026-11-27T18:50:19"), Some(1_795_805_419_000_000));
        assert_eq!(micros(b"1969-12-31T23:59:59Z"), Some(-1_000_000));
        for text in
            ["2000-02-29T12:00:00Z", "2024-12-31T23:59:59.999999Z", "2100-03-01T00:00:00Z", "2008-01-01T00:00:00Z"]
        {
            assert_eq!(micros(text.as_bytes()), Some(reference(text)), "{text}");
        }
    }

    #[test]
    fn what_is_not_a_time_is_refused() {
        for text in [
            "soon",
            "2026-11-27",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-11-27T24:00:00Z",
            "2026-11-27T18:50:19.Z",
            "2026-11-27T18:50:19+2",
            "2026/11/27T18:50:19Z",
            "2026-11-27T18:50:19Zjunk",
        ] {
            assert_eq!(micros(text.as_bytes()), None, "{text}");
        }
    }
}
