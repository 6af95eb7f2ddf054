//! The gzip and brotli variants of a document, computed once per render (on the ingest
//! thread, never on a request) so that a request is a lookup and a write.

use std::io::Write;

use bytes::Bytes;

use super::document::kept_bytes;

/// Below this size brotli's quality 5 and up cost more in set-up, whatever the input,
/// than quality 4 (which still beats gzip -9 on size) costs in all; above it the better
/// qualities pay for themselves (docs/performance.md).
const SMALL: usize = 64 * 1024;

/// The compressed variants worth keeping: each only when smaller than the original. A
/// big document's two variants are computed on two threads (a feed of 50 full entries
/// takes milliseconds each; the machine this runs on has at least two cores).
pub fn variants(body: &[u8]) -> (Option<Bytes>, Option<Bytes>) {
    let smaller = |out: Vec<u8>| (out.len() < body.len()).then(|| kept_bytes(out));
    let (gz, br) = if body.len() < SMALL {
        (gzip(body), brotli(body))
    } else {
        std::thread::scope(|scope| {
            let br = scope.spawn(|| brotli(body));
            let gz = gzip(body);
            // A panic in the encoder costs only the variant: the identity is always served.
            (gz, br.join().ok().flatten())
        })
    };
    (gz.and_then(smaller), br.and_then(smaller))
}

fn gzip(body: &[u8]) -> Option<Vec<u8>> {
    let level = if body.len() < SMALL { 9 } else { 6 };
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::new(level),
    );
    encoder.write_all(body).ok()?;
    encoder.finish().ok()
}

fn brotli(body: &[u8]) -> Option<Vec<u8>> {
    // A window just big enough for the document: smaller tables, faster set-up.
    let window = (usize::BITS - body.len().max(1 << 10).leading_zeros()).clamp(10, 24);
    let params = brotli::enc::BrotliEncoderParams {
        quality: if body.len() < SMALL { 4 } else { 5 },
        lgwin: window as i32,
        size_hint: body.len(),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(body.len() / 4);
    brotli::BrotliCompress(&mut &body[..], &mut out, &params).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn variants_decompress_to_the_original() {
        let body = "<p>Readers poll the same feed again and again.</p>\n".repeat(200);
        let (gz, br) = variants(body.as_bytes());
        let mut unzipped = String::new();
        flate2::read::GzDecoder::new(&gz.unwrap()[..])
            .read_to_string(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, body);
        let mut unbrotlied = Vec::new();
        brotli::BrotliDecompress(&mut &br.unwrap()[..], &mut unbrotlied).unwrap();
        assert_eq!(unbrotlied, body.as_bytes());
    }

    #[test]
    fn a_variant_that_does_not_shrink_is_dropped() {
        assert_eq!(variants(b"x"), (None, None));
    }
}
