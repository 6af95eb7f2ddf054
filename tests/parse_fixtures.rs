//! The article parser against one fixture file per real-world deviation from the seed
//! format of DESIGN.md ("The article format"). Every file in `tests/fixtures/articles/`
//! is named for its case and listed once in `CASES` with what the design says it becomes.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use common::pipeline_invariant::clean_article;
use seedfeed::model::RejectReason;
use seedfeed::parse::{ParseWarning, parse_article};

/// One fixture and what parsing it must give.
struct Case {
    fixture: &'static str,
    expect: Expect,
}

enum Expect {
    Article(Want),
    Reject(Reject),
}

/// The expected article, field by field, and the repairs the parser must report.
struct Want {
    section: Option<&'static str>,
    title: &'static str,
    caption: Option<&'static str>,
    body: Body,
    related: &'static [&'static str],
    /// Compared as a set: the order in which repairs are reported is not part of the format.
    warnings: &'static [ParseWarning],
}

enum Body {
    Exact(&'static [&'static str]),
    /// For the long sample: how many paragraphs, and the first and the last.
    Outline {
        count: usize,
        first: &'static str,
        last: &'static str,
    },
}

/// The reject variant expected; the binary detail text is the parser's to word.
#[derive(Debug, Clone, Copy)]
enum Reject {
    Empty,
    Binary,
}

impl Reject {
    fn accepts(self, reason: &RejectReason) -> bool {
        match self {
            Self::Empty => *reason == RejectReason::Empty,
            Self::Binary => matches!(reason, RejectReason::Binary(_)),
        }
    }
}

const SAMPLE_CAPTION: &str = "Dioncounda Traore (L), the interim president of Mali, looks on during an emergency ECOWAS summit held in Abidjan to discuss violence and unrest in Mali and Guinea Bissau on April 26, 2012.";
const SAMPLE_FIRST: &str = "About one month after a group of soldiers ousted Mali\u{2019}s democratically elected president Amadou Toumani Toure, members of the Red Beret presidential guard unit have attempted a countercoup, the Associated Press reported.";
const SAMPLE_LAST: &str = "But West African heads of state attending an ECOWAS summit on April 26 called for the soldiers to get out of politics completely, according to the AP.";

static CASES: &[Case] = &[
    // The shared sample article, canonical layout, no trailing newline.
    Case {
        fixture: "sample.txt",
        expect: Expect::Article(Want {
            section: Some("Conflict & Justice"),
            title: "Mali: countercoup attempted",
            caption: Some(SAMPLE_CAPTION),
            body: Body::Outline {
                count: 9,
                first: SAMPLE_FIRST,
                last: SAMPLE_LAST,
            },
            related: &[
                "Mali coup: Soldiers overthrow government, loot presidential palace (VIDEO) (UPDATES)",
                "Army gets key posts in new Mali government",
            ],
            warnings: &[],
        }),
    },
    // Windows line ends.
    Case {
        fixture: "crlf.txt",
        expect: Expect::Article(Want {
            section: Some("Business"),
            title: "Nigeria: fuel subsidy protests spread",
            caption: Some(
                "Protesters march through Lagos on January 9, 2012. (Pius Utomi Ekpei/AFP/Getty Images)",
            ),
            body: Body::Exact(&[
                "Unions called a general strike on Monday.",
                "Markets in Lagos stayed shut.",
            ]),
            related: &[],
            warnings: &[],
        }),
    },
    // Classic Mac OS line ends: CR alone.
    Case {
        fixture: "cr_only.txt",
        expect: Expect::Article(Want {
            section: Some("Health"),
            title: "Kenya: cholera cases rise",
            caption: Some(
                "A nurse (R) treats a patient at a clinic in Nairobi on March 2, 2012. (Tony Karumba/AFP/Getty Images)",
            ),
            body: Body::Exact(&[
                "The outbreak has spread to three provinces.",
                "The health ministry asked for help.",
            ]),
            related: &[],
            warnings: &[],
        }),
    },
    // A UTF-8 byte order mark before the section line: not part of the section.
    Case {
        fixture: "utf8_bom.txt",
        expect: Expect::Article(Want {
            section: Some("Tech"),
            title: "India\u{2019}s startup scene booms",
            caption: Some(
                "Engineers (C) work at an office in Bangalore on July 5, 2012. (Manjunath Kiran/AFP/Getty Images)",
            ),
            body: Body::Exact(&[
                "Investors put money into 300 startups this year.",
                "Most of them sell to Indian customers.",
            ]),
            related: &[],
            warnings: &[],
        }),
    },
    // A whole legacy file: curly quotes and accents as Windows-1252 bytes (11 of them).
    Case {
        fixture: "windows_1252.txt",
        expect: Expect::Article(Want {
            section: Some("Culture"),
            title: "Tour\u{e9}\u{2019}s caf\u{e9} reopens in Bamako",
            caption: Some(
                "Amadou Tour\u{e9} (C) greets guests at his caf\u{e9} on May 3, 2012. (Habibou Kouyat\u{e9}/AFP/Getty Images)",
            ),
            body: Body::Exact(&[
                "\u{201c}We never closed our hearts,\u{201d} said Tour\u{e9}.",
                "The caf\u{e9}\u{2019}s menu is unchanged.",
            ]),
            related: &[],
            warnings: &[ParseWarning::Windows1252 { bytes: 11 }],
        }),
    },
    // A Windows-1252 file in which "É”" (0xC9 0x94) happens to be a valid UTF-8 pair:
    // the whole file is legacy text, so the pair is too.
    Case {
        fixture: "windows_1252_utf8_lookalike.txt",
        expect: Expect::Article(Want {
            section: Some("Politics"),
            title: "JOS\u{c9}\u{201d}: the mayor\u{2019}s reply",
            caption: Some("Jos\u{e9} Garc\u{ed}a (R) speaks in S\u{e3}o Paulo."),
            body: Body::Exact(&["\u{201c}No comment,\u{201d} said JOS\u{c9}\u{2014}twice."]),
            related: &[],
            warnings: &[ParseWarning::Windows1252 { bytes: 10 }],
        }),
    },
    // Notepad's "Unicode": UTF-16LE with a byte order mark and CRLF line ends.
    Case {
        fixture: "utf16le_bom.txt",
        expect: Expect::Article(Want {
            section: Some("Politics"),
            title: "C\u{f4}te d\u{2019}Ivoire votes in runoff",
            caption: Some(
                "Voters (L) queue at a polling station in Abidjan on November 28, 2010. (Issouf Sanogo/AFP/Getty Images)",
            ),
            body: Body::Exact(&[
                "Turnout was high in the south.",
                "Results are expected on Thursday.",
            ]),
            related: &[],
            warnings: &[ParseWarning::Utf16],
        }),
    },
    // No section line; the title is short enough to pass for one.
    Case {
        fixture: "no_section.txt",
        expect: Expect::Article(Want {
            section: None,
            title: "Syria: ceasefire collapses",
            caption: Some(
                "Kofi Annan (C), a United Nations envoy, speaks at a press conference in Geneva on April 12, 2012. (Fabrice Coffrini/AFP/Getty Images)",
            ),
            body: Body::Exact(&[
                "Shelling resumed in Homs on Tuesday.",
                "Observers are due to arrive next week.",
            ]),
            related: &[],
            warnings: &[],
        }),
    },
    // No caption: the body follows the title after 3 blank lines.
    Case {
        fixture: "no_caption.txt",
        expect: Expect::Article(Want {
            section: Some("Environment"),
            title: "Drought grips the Sahel",
            caption: None,
            body: Body::Exact(&[
                "Harvests failed across Niger and Chad this year.",
                "Aid agencies warned of hunger by June.",
            ]),
            related: &[],
            warnings: &[],
        }),
    },
    // Neither section nor caption: title, 2 blank lines, body.
    Case {
        fixture: "no_section_no_caption.txt",
        expect: Expect::Article(Want {
            section: None,
            title: "Mali: junta agrees to hand over power",
            caption: None,
            body: Body::Exact(&[
                "Soldiers who seized power last month signed a deal with ECOWAS on Friday.",
                "The interim president will be sworn in next week.",
            ]),
            related: &[
                "Mali coup: Soldiers overthrow government, loot presidential palace (VIDEO)",
            ],
            warnings: &[],
        }),
    },
    // Every blank run doubled or more (2, 4, 6; 2 and 3 in the body), plus leading and
    // trailing blank lines.
    Case {
        fixture: "extra_blank_lines.txt",
        expect: Expect::Article(Want {
            section: Some("Sports"),
            title: "Kenya sweeps the Boston Marathon",
            caption: Some(
                "Wesley Korir (C) of Kenya crosses the finish line in Boston on April 16, 2012. (Jim Rogash/Getty Images)",
            ),
            body: Body::Exact(&[
                "Kenyan runners took the top three places.",
                "The heat slowed the whole field.",
                "Organizers offered runners a deferral.",
            ]),
            related: &["Photos: Inside Nairobi\u{2019}s running camps"],
            warnings: &[],
        }),
    },
    // Trailing spaces and tabs on text lines; "blank" lines holding only whitespace.
    Case {
        fixture: "trailing_spaces.txt",
        expect: Expect::Article(Want {
            section: Some("Rights"),
            title: "Egypt: activists freed on bail",
            caption: Some(
                "Activists (L) leave a court in Cairo on February 8, 2012. (Khaled Desouki/AFP/Getty Images)",
            ),
            body: Body::Exact(&[
                "The court set bail at 1,000 pounds each.",
                "The trial resumes in March.",
            ]),
            related: &[],
            warnings: &[],
        }),
    },
    // A title with two colons, and a body line with one: neither is a related line.
    Case {
        fixture: "title_with_colon.txt",
        expect: Expect::Article(Want {
            section: Some("Politics"),
            title: "Q&A: Mali\u{2019}s coup: What you need to know",
            caption: Some(
                "Soldiers (R) patrol a street in Bamako on March 22, 2012. (Habibou Kouyat\u{e9}/AFP/Getty Images)",
            ),
            body: Body::Exact(&[
                "Mutinous soldiers seized the presidential palace on Thursday.",
                "Here is what happened next: a deal with ECOWAS.",
            ]),
            related: &[],
            warnings: &[],
        }),
    },
    // Only text: the title is the first line, the following lines one paragraph.
    Case {
        fixture: "plain_text.txt",
        expect: Expect::Article(Want {
            section: None,
            title: "Notes from a trip to Timbuktu",
            caption: None,
            body: Body::Exact(&[
                "We drove north from Mopti at dawn. The road was empty for hours.",
            ]),
            related: &[],
            warnings: &[],
        }),
    },
    // One line, no newline: a title and nothing else.
    Case {
        fixture: "single_line.txt",
        expect: Expect::Article(Want {
            section: None,
            title: "Kenya: rains return to the Rift Valley",
            caption: None,
            body: Body::Exact(&[]),
            related: &[],
            warnings: &[],
        }),
    },
    // Cross-promotion lines alone, two in a row after a body line, and one last line
    // without a newline: all leave the body, in file order.
    Case {
        fixture: "related_lines.txt",
        expect: Expect::Article(Want {
            section: Some("Politics"),
            title: "Greece: coalition talks collapse",
            caption: Some(
                "Antonis Samaras (L) leaves a meeting with the president in Athens on May 7, 2012. (Louisa Gouliamaki/AFP/Getty Images)",
            ),
            body: Body::Exact(&[
                "Talks to form a coalition government ended without a deal on Monday.",
                "New elections are expected in June.",
                "Markets fell on the news.",
            ]),
            related: &[
                "Greece election: What you need to know (VIDEO)",
                "Why Greece\u{2019}s debt matters to the rest of the world",
                "Europe braces for a Greek exit (MAP)",
                "Athens protest turns violent (PHOTOS)",
            ],
            warnings: &[],
        }),
    },
    // U+0001 and U+001B in the title, U+000B in the caption, U+FFFE and U+FFFF in the
    // body: XML 1.0 cannot carry them, so they go and the rest is an article.
    Case {
        fixture: "control_chars.txt",
        expect: Expect::Article(Want {
            section: Some("Tech"),
            title: "Control codes in a Lagos startup",
            caption: Some(
                "A programmer (R) works at a co-working space in Lagos on June 4, 2012. (Pius Utomi Ekpei/AFP/Getty Images)",
            ),
            body: Body::Exact(&[
                "The file came from an old content system.",
                "It still reads as an article.",
            ]),
            related: &[],
            warnings: &[ParseWarning::RemovedCharacters { count: 5 }],
        }),
    },
    // Markup, entities and a CDATA end are text: kept verbatim (escaping is the renderer's).
    Case {
        fixture: "markup_and_cdata.txt",
        expect: Expect::Article(Want {
            section: Some("Arts & Culture"),
            title: "<script>alert(\"feed\")</script> & other tricks",
            caption: Some(
                "Code on a screen at a security conference in Las Vegas on August 4, 2012. (AT&amp;T/Reuters)",
            ),
            body: Body::Exact(&[
                "A payload can end a CDATA section early with ]]> and inject markup.",
                "Escaped text such as &amp; and &lt;b&gt; must stay as typed.",
            ]),
            related: &["<b>Bold</b> claims & ]]> tricks"],
            warnings: &[],
        }),
    },
    // Valid UTF-8 (accents, curly quote, em dash) with one pasted Windows-1252 apostrophe.
    Case {
        fixture: "mixed_utf8_cp1252.txt",
        expect: Expect::Article(Want {
            section: Some("Business"),
            title: "C\u{f4}te d\u{2019}Ivoire\u{2019}s cocoa harvest beats forecasts",
            caption: Some(
                "A farmer (L) dries cocoa beans near Abidjan on October 2, 2012. (Issouf Sanogo/AFP/Getty Images)",
            ),
            body: Body::Exact(&[
                "Exports rose 12 percent \u{2014} the largest rise since 2005, said Jos\u{e9} Tour\u{e9}.",
                "The ministry\u{2019}s figures were published on Friday.",
            ]),
            related: &[],
            warnings: &[ParseWarning::Windows1252 { bytes: 1 }],
        }),
    },
    // Rejects: what cannot be an article.
    Case {
        fixture: "empty.txt",
        expect: Expect::Reject(Reject::Empty),
    },
    Case {
        fixture: "whitespace_only.txt",
        expect: Expect::Reject(Reject::Empty),
    },
    Case {
        fixture: "bom_only.txt",
        expect: Expect::Reject(Reject::Empty),
    },
    // The first bytes of a PNG: signature, then the IHDR chunk with its NULs.
    Case {
        fixture: "binary_nul.txt",
        expect: Expect::Reject(Reject::Binary),
    },
    // Terminal noise: mostly C0 controls and DEL, no NUL.
    Case {
        fixture: "binary_controls.txt",
        expect: Expect::Reject(Reject::Binary),
    },
];

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/articles")
}

fn read_fixture(name: &str) -> Vec<u8> {
    let path = fixtures_dir().join(name);
    fs::read(&path).unwrap_or_else(|e| panic!("{name}: cannot read {}: {e}", path.display()))
}

/// Records a mismatch of one field, naming the fixture.
fn compare<T: PartialEq + std::fmt::Debug + ?Sized>(
    failures: &mut Vec<String>,
    fixture: &str,
    field: &str,
    expected: &T,
    actual: &T,
) {
    if expected != actual {
        failures.push(format!(
            "{fixture}: {field}\n    expected: {expected:?}\n      actual: {actual:?}"
        ));
    }
}

fn check_article(failures: &mut Vec<String>, fixture: &str, want: &Want) {
    let parsed = match parse_article(&read_fixture(fixture)) {
        Ok(parsed) => parsed,
        Err(reason) => {
            failures.push(format!(
                "{fixture}: expected an article, rejected as {reason:?} ({reason})"
            ));
            return;
        }
    };
    let article = &parsed.article;
    compare(
        failures,
        fixture,
        "section",
        &want.section,
        &article.section.as_deref(),
    );
    compare(
        failures,
        fixture,
        "title",
        want.title,
        article.title.as_str(),
    );
    compare(
        failures,
        fixture,
        "caption",
        &want.caption,
        &article.caption.as_deref(),
    );
    let paragraphs: Vec<&str> = article.paragraphs.iter().map(String::as_str).collect();
    match want.body {
        Body::Exact(expected) => compare(failures, fixture, "paragraphs", expected, &paragraphs),
        Body::Outline { count, first, last } => {
            compare(
                failures,
                fixture,
                "paragraph count",
                &count,
                &paragraphs.len(),
            );
            compare(
                failures,
                fixture,
                "first paragraph",
                &Some(first),
                &paragraphs.first().copied(),
            );
            compare(
                failures,
                fixture,
                "last paragraph",
                &Some(last),
                &paragraphs.last().copied(),
            );
        }
    }
    let related: Vec<&str> = article.related.iter().map(String::as_str).collect();
    compare(failures, fixture, "related", want.related, &related);
    let same_warnings = want.warnings.len() == parsed.warnings.len()
        && want.warnings.iter().all(|w| parsed.warnings.contains(w));
    if !same_warnings {
        failures.push(format!(
            "{fixture}: warnings\n    expected: {:?}\n      actual: {:?}",
            want.warnings, parsed.warnings
        ));
    }
}

fn check_reject(failures: &mut Vec<String>, fixture: &str, reject: Reject) {
    match parse_article(&read_fixture(fixture)) {
        Err(reason) if reject.accepts(&reason) => {}
        Err(reason) => failures.push(format!(
            "{fixture}: expected reject {reject:?}, rejected as {reason:?}"
        )),
        Ok(parsed) => failures.push(format!(
            "{fixture}: expected reject {reject:?}, parsed as {:?} (warnings {:?})",
            parsed.article, parsed.warnings
        )),
    }
}

fn fail_if_any(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} mismatch(es):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn fixtures_parse_as_the_design_says() {
    let mut failures = Vec::new();
    for case in CASES {
        match &case.expect {
            Expect::Article(want) => check_article(&mut failures, case.fixture, want),
            Expect::Reject(reject) => check_reject(&mut failures, case.fixture, *reject),
        }
    }
    fail_if_any(&failures);
}

/// A fixture added to the folder but not to `CASES` would test nothing; a case whose
/// file is gone would fail on read, but say so here too.
#[test]
fn every_fixture_is_in_the_table() {
    let on_disk: BTreeSet<String> = fs::read_dir(fixtures_dir())
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", fixtures_dir().display()))
        .map(|entry| {
            let entry = entry.unwrap_or_else(|e| panic!("cannot list fixtures: {e}"));
            entry.file_name().to_string_lossy().into_owned()
        })
        .filter(|name| !name.starts_with('.'))
        .collect();
    let mut in_table = BTreeSet::new();
    let mut failures = Vec::new();
    for case in CASES {
        if !in_table.insert(case.fixture.to_owned()) {
            failures.push(format!("{}: listed twice in CASES", case.fixture));
        }
    }
    for name in on_disk.difference(&in_table) {
        failures.push(format!("{name}: fixture file has no case in CASES"));
    }
    for name in in_table.difference(&on_disk) {
        failures.push(format!("{name}: case in CASES has no fixture file"));
    }
    fail_if_any(&failures);
}

/// Whatever a fixture is, an accepted article has only XML-legal, trimmed, non-empty text
/// (DESIGN.md, the entry: "trimmed text, XML-illegal characters removed"): the clean
/// fields of the pipeline's invariant.
#[test]
fn accepted_fixtures_have_clean_fields() {
    let mut failures = Vec::new();
    for case in CASES {
        let Ok(parsed) = parse_article(&read_fixture(case.fixture)) else {
            continue;
        };
        if let Err(fault) = clean_article(&parsed.article) {
            failures.push(format!("{}: {fault}", case.fixture));
        }
    }
    fail_if_any(&failures);
}
