//! An image's width and height from its header: the raster formats through `imagesize`
//! (which reads the few bytes that hold them and seeks past the rest), an SVG from its
//! root element's `width`, `height` and `viewBox`, streamed so that nothing after the
//! root's start tag is read.

use std::io::{BufRead, Seek};

use quick_xml::events::{BytesStart, Event};

use super::{Failed, MediaFormat};

/// A width and height in pixels, or `None` when the header gives none.
pub(super) type Size = Option<(u32, u32)>;

/// The size of an image of `format` (whose signature was checked) read from `reader`.
pub(super) fn dimensions<R: BufRead + Seek>(
    format: MediaFormat,
    reader: &mut R,
) -> Result<Size, Failed> {
    if format == MediaFormat::Svg {
        return svg_size(reader);
    }
    let size = imagesize::reader_size(reader).map_err(|error| match error {
        imagesize::ImageError::IoError(error) => Failed::from(error),
        other => Failed::new(other),
    })?;
    let width = u32::try_from(size.width).ok().filter(|&w| w > 0);
    let height = u32::try_from(size.height).ok().filter(|&h| h > 0);
    match width.zip(height) {
        Some(size) => Ok(Some(size)),
        None => Err(Failed::new(format_args!(
            "the header gives a size of {} by {} pixels",
            size.width, size.height
        ))),
    }
}

/// An SVG's size from its root element. A document type declaration is refused: it is
/// where entities are declared, and an image has no need of them.
fn svg_size<R: BufRead>(reader: R) -> Result<Size, Failed> {
    let mut xml = quick_xml::Reader::from_reader(reader);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let event = xml.read_event_into(&mut buf).map_err(xml_failure)?;
        match event {
            Event::Start(root) | Event::Empty(root) => return root_size(&root),
            Event::DocType(_) => {
                return Err(Failed::new(
                    "it declares a document type (DTD), which an SVG image may not",
                ));
            }
            Event::Eof => return Err(Failed::new("it has no root element")),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::Text(_) => {}
            Event::End(_) | Event::CData(_) | Event::GeneralRef(_) => {
                return Err(Failed::new("it has text or markup before its root element"));
            }
        }
    }
}

/// quick-xml's errors, with the I/O error under one kept for the reader's reason.
fn xml_failure(error: quick_xml::Error) -> Failed {
    match error {
        quick_xml::Error::Io(io) => Failed::from(std::io::Error::new(io.kind(), io.to_string())),
        other => Failed::new(other),
    }
}

/// The size an SVG root element gives: `width` and `height` in absolute units, or the
/// view box's when they are missing or relative (a percentage, an `em`), the missing
/// one taken from the view box's aspect ratio, as browsers size an `<img>` of it.
fn root_size(root: &BytesStart<'_>) -> Result<Size, Failed> {
    if root.local_name().as_ref() != "svg" {
        return Err(Failed::new("its root element is not <svg>"));
    }
    let (mut width, mut height, mut view_box) = (None, None, None);
    for attribute in root.attributes() {
        let attribute = attribute.map_err(Failed::new)?;
        let value: &str = &attribute.value;
        match attribute.key.as_ref() {
            "width" => width = length_in_pixels(value),
            "height" => height = length_in_pixels(value),
            "viewBox" => view_box = view_box_size(value),
            _ => {}
        }
    }
    let size = match (width, height, view_box) {
        (Some(w), Some(h), _) => Some((w, h)),
        (Some(w), None, Some((vw, vh))) => Some((w, w * vh / vw)),
        (None, Some(h), Some((vw, vh))) => Some((h * vw / vh, h)),
        (None, None, Some(view_box)) => Some(view_box),
        _ => None,
    };
    Ok(size.and_then(|(w, h)| Some((whole_pixels(w)?, whole_pixels(h)?))))
}

/// A length attribute in CSS pixels: a number, with no unit or an absolute one (CSS
/// Values 4: 96 pixels to the inch). Relative units (`%`, `em`, `ex`) are `None`: the
/// size is then the page's to decide.
fn length_in_pixels(value: &str) -> Option<f64> {
    let value = value.trim();
    let (number, scale) = ABSOLUTE_UNITS
        .iter()
        .find_map(|&(unit, scale)| Some((value.strip_suffix(unit)?, scale)))
        .unwrap_or((value, 1.0));
    // A relative unit is left on the number, which then does not parse.
    let number: f64 = number.trim_end().parse().ok()?;
    positive(number * scale)
}

/// CSS's absolute length units and their size in pixels.
const ABSOLUTE_UNITS: [(&str, f64); 6] = [
    ("px", 1.0),
    ("in", 96.0),
    ("cm", 96.0 / 2.54),
    ("mm", 96.0 / 25.4),
    ("pt", 96.0 / 72.0),
    ("pc", 16.0),
];

/// The width and height of a `viewBox` ("min-x min-y width height", separated by blanks
/// or commas).
fn view_box_size(value: &str) -> Option<(f64, f64)> {
    let numbers: Vec<f64> = value
        .split(|c: char| c.is_ascii_whitespace() || c == ',')
        .filter(|part| !part.is_empty())
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    match numbers[..] {
        [_, _, width, height] => Some((positive(width)?, positive(height)?)),
        _ => None,
    }
}

fn positive(number: f64) -> Option<f64> {
    (number.is_finite() && number > 0.0).then_some(number)
}

/// Pixels rounded to whole ones, at least one, and within the range of an image.
fn whole_pixels(value: f64) -> Option<u32> {
    let rounded = value.round().max(1.0);
    (rounded <= f64::from(u32::MAX)).then_some(rounded as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size_of(svg: &str) -> Result<Size, String> {
        svg_size(svg.as_bytes()).map_err(|failed| failed.reason)
    }

    #[test]
    fn svg_sizes_as_browsers_read_them() {
        let ns = r#"xmlns="http://www.w3.org/2000/svg""#;
        let cases = [
            (
                format!(r#"<svg {ns} width="120" height="60"/>"#),
                Some((120, 60)),
            ),
            (
                format!(r#"<svg {ns} width="1in" height="2.54cm"/>"#),
                Some((96, 96)),
            ),
            (
                format!(r#"<svg {ns} width=" 12.6px " height="72pt"/>"#),
                Some((13, 96)),
            ),
            (
                format!(r#"<svg {ns} viewBox="0 0 300 150"/>"#),
                Some((300, 150)),
            ),
            (
                format!(r#"<svg {ns} viewBox="-5,-5, 40,20"/>"#),
                Some((40, 20)),
            ),
            (
                format!(r#"<svg {ns} width="100%" viewBox="0 0 40 20"/>"#),
                Some((40, 20)),
            ),
            (
                format!(r#"<svg {ns} width="80" viewBox="0 0 40 20"/>"#),
                Some((80, 40)),
            ),
            (
                format!(r#"<svg {ns} height="10" viewBox="0 0 40 20"/>"#),
                Some((20, 10)),
            ),
            (format!(r#"<svg {ns} width="2em" height="2em"/>"#), None),
            (format!(r#"<svg {ns} width="-4" height="4"/>"#), None),
            (format!(r#"<svg {ns} viewBox="0 0 0 10"/>"#), None),
            (format!(r#"<svg {ns} viewBox="0 0 10"/>"#), None),
            (
                format!(r#"<svg {ns}><rect width="5" height="5"/></svg>"#),
                None,
            ),
            (
                format!(r#"<svg {ns} width="0.2" height="1e3"/>"#),
                Some((1, 1000)),
            ),
        ];
        for (svg, size) in cases {
            assert_eq!(size_of(&svg), Ok(size), "{svg}");
        }
    }

    #[test]
    fn svg_prolog_is_skipped() {
        let svg = "\u{FEFF}<?xml version=\"1.0\"?>\n<!-- made by hand -->\n\
                   <?xml-stylesheet href=\"a.css\"?>\n<svg width=\"3\" height=\"4\">";
        assert_eq!(size_of(svg), Ok(Some((3, 4))));
    }

    #[test]
    fn svg_refusals_say_why() {
        let cases = [
            (
                "<!DOCTYPE svg><svg width=\"1\" height=\"1\"/>",
                "document type",
            ),
            ("<html><svg width=\"1\" height=\"1\"/></html>", "not <svg>"),
            ("<!-- nothing else -->", "no root element"),
            ("<svg width=\"1\" width=\"2\"/>", "duplicated attribute"),
        ];
        for (svg, reason) in cases {
            let error = size_of(svg).unwrap_err();
            assert!(error.contains(reason), "{svg}: {error}");
        }
    }
}
