//! PostgreSQL's binary COPY format, written straight from SQLite values into one reused buffer:
//! no text for the server to parse (times and numbers arrive as what they are) and no allocation
//! per value. The format: a signature and two zero words, then per row a field count and per field
//! a length (-1 for NULL) and the bytes, then -1. See "COPY, Binary Format" in PostgreSQL's manual.

use rusqlite::types::ValueRef;

use super::tables::Kind;

/// The signature, the flags word and the header extension length.
pub const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// The end of the data.
pub const TRAILER: &[u8] = &[0xff, 0xff];

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01T00:00:00Z).
const POSTGRES_EPOCH: i64 = 946_684_800_000_000;

/// The start of a row of `fields` fields.
pub fn row(out: &mut Vec<u8>, fields: usize) {
    out.extend_from_slice(&(fields as i16).to_be_bytes());
}

/// A bigint field.
pub fn bigint(out: &mut Vec<u8>, n: i64) {
    out.extend_from_slice(&8i32.to_be_bytes());
    out.extend_from_slice(&n.to_be_bytes());
}

/// One value of a column of `kind`; an error says why it does not fit.
pub fn field(out: &mut Vec<u8>, kind: Kind, value: ValueRef<'_>) -> Result<(), String> {
    match (kind, value) {
        (_, ValueRef::Null) => out.extend_from_slice(&(-1i32).to_be_bytes()),
        (Kind::Integer, ValueRef::Integer(n)) => bigint(out, n),
        (Kind::Integer, ValueRef::Text(text)) => {
            let n = std::str::from_utf8(text).ok().and_then(|t| t.trim().parse().ok());
            bigint(out, n.ok_or_else(|| format!("`{}` is not an integer", String::from_utf8_lossy(text)))?);
        }
        (Kind::Real, ValueRef::Real(x)) => double(out, x),
        (Kind::Real, ValueRef::Integer(n)) => double(out, n as f64),
        (Kind::Boolean, ValueRef::Integer(n)) => {
            out.extend_from_slice(&1i32.to_be_bytes());
            out.push(u8::from(n != 0));
        }
        (Kind::Time, ValueRef::Text(text)) => {
            let at = super::values::micros(text)
                .ok_or_else(|| format!("`{}` is not a time", String::from_utf8_lossy(text)))?;
            bigint(out, at - POSTGRES_EPOCH);
        }
        (Kind::Text, ValueRef::Text(text) | ValueRef::Blob(text)) => sized(out, |out| push_text(out, text)),
        (Kind::Text, ValueRef::Integer(n)) => sized(out, |out| out.extend_from_slice(n.to_string().as_bytes())),
        (Kind::Text, ValueRef::Real(x)) => sized(out, |out| out.extend_from_slice(x.to_string().as_bytes())),
        // jsonb's binary form: a version byte, then the JSON text.
        (Kind::Json, ValueRef::Text(text)) => sized(out, |out| {
            out.push(1);
            push_text(out, text);
        }),
        (kind, other) => return Err(format!("{:?} does not fit a {kind:?} column", other.data_type())),
    }
    Ok(())
}

fn double(out: &mut Vec<u8>, x: f64) {
    out.extend_from_slice(&8i32.to_be_bytes());
    out.extend_from_slice(&x.to_be_bytes());
}

/// A variable-length field: its length, patched in once `write` has written it.
fn sized(out: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>)) {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    write(out);
    let length = (out.len() - at - 4) as i32;
    out[at..at + 4].copy_from_slice(&length.to_be_bytes());
}

/// Text as PostgreSQL takes it: valid UTF-8 without NUL characters (which it cannot store).
fn push_text(out: &mut Vec<u8>, text: &[u8]) {
    match std::str::from_utf8(text) {
        Ok(_) if !text.contains(&0) => out.extend_from_slice(text),
        _ => out.extend(String::from_utf8_lossy(text).bytes().filter(|b| *b != 0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(kind: Kind, value: ValueRef<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        field(&mut out, kind, value).unwrap();
        out
    }

    #[test]
    fn values_are_encoded_as_postgres_reads_them() {
        assert_eq!(encoded(Kind::Integer, ValueRef::Null), [0xff; 4]);
        assert_eq!(encoded(Kind::Integer, ValueRef::Integer(258)), [0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(encoded(Kind::Integer, ValueRef::Text(b" 7")), encoded(Kind::Integer, ValueRef::Integer(7)));
        assert_eq!(encoded(Kind::Boolean, ValueRef::Integer(2)), [0, 0, 0, 1, 1]);
        assert_eq!(encoded(Kind::Text, ValueRef::Text(b"a\0b")), [0, 0, 0, 2, b'a', b'b']);
        assert_eq!(encoded(Kind::Json, ValueRef::Text(b"[]")), [0, 0, 0, 3, 1, b'[', b']']);
        assert_eq!(
            encoded(Kind::Time, ValueRef::Text(b"2000-01-01T00:00:01Z")),
            [0, 0, 0, 8, 0, 0, 0, 0, 0, 0x0f, 0x42, 0x40]
        );
        assert_eq!(encoded(Kind::Real, ValueRef::Integer(1))[4..], 1f64.to_be_bytes());
    }

    #[test]
    fn values_that_do_not_fit_are_refused_with_the_reason() {
        let mut out = Vec::new();
        assert_eq!(field(&mut out, Kind::Time, ValueRef::Text(b"soon")).unwrap_err(), "`soon` is not a time");
        assert!(field(&mut out, Kind::Boolean, ValueRef::Text(b"yes")).unwrap_err().contains("does not fit"));
    }
}
