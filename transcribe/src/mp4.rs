//! What an MP4's sample tables claim, checked against the file before symphonia sees it.
//!
//! symphonia's MP4 demuxer allocates each table (`stsc`, `stsz`, `stco`, ...) for the entry
//! count its header states, before reading a single entry: a 64 KB upload whose `stsc` says
//! 4 billion entries asked for 48 GB, and a failed allocation aborts the whole process (found
//! by fuzzing `audio_probe`). Walking the box tree to compare each count with the box's
//! actual size is a few reads, so it is done here, as [`crate::riff`] does for WAV.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::error::{Error, Result};

/// Boxes holding other boxes that symphonia descends into.
const CONTAINERS: [&[u8; 4]; 9] = [
    b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"mvex", b"moof", b"traf",
];
/// Deeper nesting than any real file has.
const MAX_DEPTH: usize = 12;
/// More boxes than any real audio file has.
const MAX_BOXES: usize = 100_000;

/// Checks every table box of the file at `path`: each entry count must fit in its box.
pub(crate) fn check_tables(path: &Path) -> Result<()> {
    let mut file = File::open(path)?;
    let end = file.metadata()?.len();
    let mut walk = Walk { boxes: 0 };
    walk.boxes_in(&mut file, 0, end, 0)
}

struct Walk {
    boxes: usize,
}

impl Walk {
    fn boxes_in(&mut self, file: &mut File, mut at: u64, end: u64, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(malformed("boxes nested too deep"));
        }
        while at + 8 <= end {
            self.boxes += 1;
            if self.boxes > MAX_BOXES {
                return Err(malformed("too many boxes"));
            }
            file.seek(SeekFrom::Start(at))?;
            let mut header = [0u8; 8];
            file.read_exact(&mut header)?;
            let kind: [u8; 4] = [header[4], header[5], header[6], header[7]];
            let (size, header_len) =
                match u32::from_be_bytes([header[0], header[1], header[2], header[3]]) {
                    0 => (end - at, 8),
                    1 => (read_u64(file)?, 16),
                    size => (u64::from(size), 8),
                };
            if size < header_len || at + size > end {
                // symphonia stops at a box that runs past its parent: so does this walk.
                return Ok(());
            }
            let body = at + header_len;
            let body_len = size - header_len;
            if CONTAINERS.contains(&&kind) {
                self.boxes_in(file, body, at + size, depth + 1)?;
            } else if let Some(entry) = entry_size(&kind) {
                check_table(file, &kind, body, body_len, entry)?;
            }
            at += size;
        }
        Ok(())
    }
}

/// How a table box lays out its entries.
enum Entry {
    /// After version and flags, a 32-bit count of entries of this many bytes.
    Fixed(u64),
    /// `stsz`: a sample size, then a count of 32-bit sizes when that size is 0.
    SampleSizes,
    /// `stz2`: a field size in bits, then a count of fields.
    CompactSampleSizes,
    /// `elst`: 12-byte entries in version 0, 20-byte in version 1.
    EditList,
}

fn entry_size(kind: &[u8; 4]) -> Option<Entry> {
    Some(match kind {
        b"stsc" => Entry::Fixed(12),
        b"stts" | b"ctts" | b"co64" => Entry::Fixed(8),
        b"stco" | b"stss" => Entry::Fixed(4),
        b"stsz" => Entry::SampleSizes,
        b"stz2" => Entry::CompactSampleSizes,
        b"elst" => Entry::EditList,
        _ => return None,
    })
}

fn check_table(file: &mut File, kind: &[u8; 4], body: u64, len: u64, entry: Entry) -> Result<()> {
    file.seek(SeekFrom::Start(body))?;
    let mut fixed = [0u8; 12];
    let fixed_len = match entry {
        Entry::Fixed(_) | Entry::EditList => 8,
        Entry::SampleSizes | Entry::CompactSampleSizes => 12,
    };
    if len < fixed_len as u64 {
        return Err(malformed(&format!("{} box too short", name(kind))));
    }
    file.read_exact(&mut fixed[..fixed_len])?;
    let word = |i: usize| {
        u64::from(u32::from_be_bytes([
            fixed[i],
            fixed[i + 1],
            fixed[i + 2],
            fixed[i + 3],
        ]))
    };
    let (count, bytes_each_x8) = match entry {
        Entry::Fixed(size) => (word(4), size * 8),
        Entry::EditList => (word(4), if fixed[0] == 1 { 160 } else { 96 }),
        Entry::SampleSizes if word(4) != 0 => return Ok(()), // one size for every sample
        Entry::SampleSizes => (word(8), 32),
        Entry::CompactSampleSizes => (word(8), u64::from(fixed[7])),
    };
    let needed = count.saturating_mul(bytes_each_x8).div_ceil(8);
    if needed > len - fixed_len as u64 {
        return Err(malformed(&format!(
            "the {} table claims {count} entries in {} bytes",
            name(kind),
            len - fixed_len as u64
        )));
    }
    Ok(())
}

fn read_u64(file: &mut File) -> Result<u64> {
    let mut bytes = [0u8; 8];
    file.read_exact(&mut bytes)?;
    Ok(u64::from_be_bytes(bytes))
}

fn name(kind: &[u8; 4]) -> String {
    String::from_utf8_lossy(kind).into_owned()
}

fn malformed(why: &str) -> Error {
    Error::Decode(format!("malformed MP4: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut out = ((8 + payload.len()) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(payload);
        out
    }

    /// An `ftyp` and a `moov` whose sample table holds `stsc` with `count` entries (one real).
    fn file_with_stsc(count: u32) -> tempfile::NamedTempFile {
        let mut stsc = vec![0, 0, 0, 0];
        stsc.extend_from_slice(&count.to_be_bytes());
        stsc.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]);
        let stbl = boxed(b"stbl", &boxed(b"stsc", &stsc));
        let trak = boxed(b"trak", &boxed(b"mdia", &boxed(b"minf", &stbl)));
        let mut bytes = boxed(b"ftyp", b"M4A \0\0\0\0");
        bytes.extend(boxed(b"moov", &trak));
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), bytes).unwrap();
        file
    }

    #[test]
    fn a_table_that_claims_more_entries_than_its_box_holds_is_refused() {
        assert!(check_tables(file_with_stsc(1).path()).is_ok());
        let error = check_tables(file_with_stsc(0xFFFF_FFF0).path()).unwrap_err();
        assert!(error.to_string().contains("stsc table claims"), "{error}");
    }
}
