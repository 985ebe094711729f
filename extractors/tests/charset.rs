//! Pages in legacy encodings come out as the right characters.

use ace_extractors::{extract, Input, Options, OutputFormat};

fn text_of(bytes: &[u8], content_type: Option<&str>) -> String {
    let opts = Options {
        formats: vec![OutputFormat::Text],
        only_main_content: false,
        ..Options::default()
    };
    extract(&Input { bytes, content_type, base_url: None }, &opts).unwrap().text.unwrap()
}

#[test]
fn windows_1252_from_meta() {
    let page = b"<html><head><meta http-equiv='Content-Type' content='text/html; charset=windows-1252'></head>\
        <body><p>Caf\xe9 cr\xe8me \x96 \x93quoted\x94 \x80 5</p></body></html>";
    assert_eq!(text_of(page, None), "Café crème – “quoted” € 5");
}

#[test]
fn shift_jis_from_meta_and_from_header() {
    let body = "<p>日本語のテキストです。文字化けしないこと。</p>";
    let (sjis, _, lossy) = encoding_rs::SHIFT_JIS.encode(body);
    assert!(!lossy);
    let mut page = b"<html><head><meta charset=\"Shift_JIS\"></head><body>".to_vec();
    page.extend_from_slice(&sjis);
    assert_eq!(text_of(&page, None), "日本語のテキストです。文字化けしないこと。");
    // The same bytes with no meta: the HTTP header names the charset.
    let mut bare = b"<html><body>".to_vec();
    bare.extend_from_slice(&sjis);
    assert_eq!(
        text_of(&bare, Some("text/html; charset=shift_jis")),
        "日本語のテキストです。文字化けしないこと。"
    );
}

#[test]
fn undeclared_legacy_text_is_guessed() {
    let (latin1, _, _) = encoding_rs::WINDOWS_1252
        .encode("<p>Die Straße führt über die Brücke nach Köln, schön und grün.</p>");
    assert_eq!(
        text_of(&latin1, None),
        "Die Straße führt über die Brücke nach Köln, schön und grün."
    );
}

#[test]
fn utf16_with_bom() {
    let mut page = vec![0xFF, 0xFE];
    for u in "<p>Grüße</p>".encode_utf16() {
        page.extend_from_slice(&u.to_le_bytes());
    }
    assert_eq!(text_of(&page, None), "Grüße");
}
