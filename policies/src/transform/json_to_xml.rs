//! `json-to-xml`: a JSON body as XML, the way APIM writes it.
//!
//! Observed APIM output (docs example and published captures) and what follows it:
//! * The root is `<Document>` holding the top-level members, unless the JSON is an
//!   object with exactly one member whose value is an object: that member is the root
//!   (the docs' `{"soapenv:Envelope": {…}}` → `<soapenv:Envelope …>`). A top-level array
//!   becomes `<Document>` with one `<Array>` per item, a top-level scalar
//!   `<Document>value</Document>` (both guesses: Newtonsoft refuses them).
//! * A member is an element named after it; an object's members are its children; an
//!   array is the element repeated once per item (an empty array is one empty element,
//!   `"children": []` → `<children />`); a nested array item is an element holding
//!   its items as elements of the same name (guess).
//! * `null` → `<x xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" />`.
//! * Scalars as .NET `ToString()`: `true` → `True`, `1.50` → `1.5`, strings as they are.
//! * Names that are not XML names are encoded as `XmlConvert.EncodeLocalName` does
//!   (`first name` → `first_x0020_name`, `1st` → `_x0031_st`, `:` → `_x003A_`).
//! * `namespace-prefix` (e.g. `xmlns`): a member named the prefix, or the prefix, the
//!   separator and a name (`xmlns:soap`), declares a namespace on the current element
//!   (`xmlns` / `xmlns:soap` attribute). `namespace-separator` (default `_`, the docs'
//!   default): a member name `p{sep}local` whose `p` is declared in scope (or is `xml`)
//!   becomes the qualified name `p:local`; other names are kept (encoded), so the
//!   default `_` leaves `first_name` alone unless a prefix `first` was declared.
//! * `attribute-block-name` (e.g. `#attrs`): that member's object members become
//!   attributes of the current element (a non-object value there is an ordinary member;
//!   `null` → empty value, containers → their compact JSON: guesses).
//! * `parse-date="true"` (default): strings that Newtonsoft reads as dates
//!   (`yyyy-MM-ddTHH:mm:ss[.f…][Z|±hh[:mm]]`) are written back the way .NET writes a
//!   `DateTime` in XML: trailing zero fractions dropped, `Z` kept, an offset converted
//!   to UTC and written `+00:00` (a local DateTime on a UTC host; UNVERIFIED).
//!   `parse-date="false"` copies them.
//! * Compact output, no XML declaration, `<x />` for an empty element (.NET's
//!   `OuterXml`). Characters XML 1.0 cannot hold fail the conversion, as .NET's writer
//!   does.

use std::fmt::Write as _;

use bumpalo::collections::{String as BString, Vec as BVec};
use bumpalo::Bump;

use crate::expr::builtins::format::write_double;
use crate::expr::builtins::json::{self, JNode};

pub(super) struct Options<'o> {
    pub parse_date: bool,
    /// One character.
    pub separator: &'o str,
    pub namespace_prefix: Option<&'o str>,
    pub attribute_block: Option<&'o str>,
}

const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Converts the JSON `body` to XML text in the arena; an error message for a body that
/// is not JSON (Newtonsoft's wording) or cannot be written as XML.
pub(super) fn convert<'a>(
    arena: &'a Bump,
    body: &'a [u8],
    o: &Options<'_>,
) -> Result<&'a str, String> {
    let text =
        std::str::from_utf8(body).map_err(|e| format!("the body is not UTF-8 text ({e})"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let root = json::parse(arena, text).map_err(|e| e.to_string())?;
    let mut w = Writer {
        out: BString::with_capacity_in(text.len() + text.len() / 2, arena),
        scope: BVec::new_in(arena),
        arena,
        o,
    };
    match root {
        JNode::Object(props) => {
            let single = match props.borrow().as_slice() {
                &[(name, value @ JNode::Object(_))] if !w.is_special(name) => Some((name, value)),
                _ => None,
            };
            match single {
                Some((name, value)) => w.element(name, value)?,
                None => w.element("Document", root)?,
            }
        }
        JNode::Array(items) => {
            let items = items.borrow();
            if items.is_empty() {
                w.out.push_str("<Document />");
            } else {
                w.out.push_str("<Document>");
                for &item in items.iter() {
                    w.element("Array", item)?;
                }
                w.out.push_str("</Document>");
            }
        }
        scalar => w.element("Document", scalar)?,
    }
    Ok(w.out.into_bump_str())
}

struct Writer<'a, 'o> {
    out: BString<'a>,
    /// Namespace prefixes declared by the enclosing elements.
    scope: BVec<'a, &'a str>,
    arena: &'a Bump,
    o: &'o Options<'o>,
}

impl<'a> Writer<'a, '_> {
    /// A member that is not a child element: a namespace declaration or the attribute
    /// block.
    fn is_special(&self, name: &str) -> bool {
        self.namespace_decl(name).is_some() || self.o.attribute_block == Some(name)
    }

    /// `Some(prefix)` (`""` for the default namespace) when `name` declares a namespace.
    fn namespace_decl<'n>(&self, name: &'n str) -> Option<&'n str> {
        let p = self.o.namespace_prefix?;
        let rest = name.strip_prefix(p)?;
        if rest.is_empty() {
            return Some("");
        }
        rest.strip_prefix(self.o.separator)
            .filter(|r| !r.is_empty())
    }

    /// The element(s) for member `name` with `value`.
    fn element(&mut self, name: &str, value: &'a JNode<'a>) -> Result<(), String> {
        match value {
            JNode::Array(items) => {
                let items = items.borrow();
                if items.is_empty() {
                    let q = self.qualified(name);
                    let _ = write!(self.out, "<{q} />");
                }
                for &item in items.iter() {
                    match item {
                        JNode::Array(inner) => {
                            let q = self.qualified(name);
                            let inner = inner.borrow();
                            if inner.is_empty() {
                                let _ = write!(self.out, "<{q} />");
                                continue;
                            }
                            let _ = write!(self.out, "<{q}>");
                            for &x in inner.iter() {
                                self.element(name, x)?;
                            }
                            let _ = write!(self.out, "</{q}>");
                        }
                        other => self.element(name, other)?,
                    }
                }
                Ok(())
            }
            JNode::Object(props) => {
                let props = props.borrow();
                let mark = self.scope.len();
                for &(k, _) in props.iter() {
                    if let Some(p) = self.namespace_decl(k) {
                        let p: &'a str = self.arena.alloc_str(p);
                        self.scope.push(p);
                    }
                }
                let q = self.qualified(name);
                self.out.push('<');
                self.out.push_str(q);
                for &(k, v) in props.iter() {
                    if let Some(p) = self.namespace_decl(k) {
                        let value = self.attr_text(v);
                        if p.is_empty() {
                            self.attribute("xmlns", value)?;
                        } else {
                            let mut n = BString::from_str_in("xmlns:", self.arena);
                            n.push_str(encode_name(self.arena, p));
                            self.attribute(n.into_bump_str(), value)?;
                        }
                    }
                }
                let block = self.o.attribute_block;
                for &(k, v) in props.iter() {
                    if block == Some(k) {
                        if let JNode::Object(attrs) = v {
                            for &(ak, av) in attrs.borrow().iter() {
                                let an = self.qualified(ak);
                                let value = self.attr_text(av);
                                self.attribute(an, value)?;
                            }
                        }
                    }
                }
                let mut open = false;
                for &(k, v) in props.iter() {
                    let attributes = block == Some(k) && matches!(v, JNode::Object(_));
                    if attributes || self.namespace_decl(k).is_some() {
                        continue;
                    }
                    if !open {
                        self.out.push('>');
                        open = true;
                    }
                    self.element(k, v)?;
                }
                if open {
                    let _ = write!(self.out, "</{q}>");
                } else {
                    self.out.push_str(" />");
                }
                self.scope.truncate(mark);
                Ok(())
            }
            JNode::Null => {
                let q = self.qualified(name);
                let _ = write!(self.out, "<{q} xsi:nil=\"true\" xmlns:xsi=\"{XSI}\" />");
                Ok(())
            }
            scalar => {
                let q = self.qualified(name);
                let _ = write!(self.out, "<{q}>");
                let t = self.scalar_text(scalar);
                escape(&mut self.out, t, false)?;
                let _ = write!(self.out, "</{q}>");
                Ok(())
            }
        }
    }

    fn attribute(&mut self, name: &str, value: &str) -> Result<(), String> {
        self.out.push(' ');
        self.out.push_str(name);
        self.out.push_str("=\"");
        escape(&mut self.out, value, true)?;
        self.out.push('"');
        Ok(())
    }

    /// A scalar as .NET `ToString()` (dates per `parse-date`).
    fn scalar_text(&self, v: &'a JNode<'a>) -> &'a str {
        match v {
            JNode::Str(s) if self.o.parse_date => normalize_date(self.arena, s).unwrap_or(*s),
            JNode::Str(s) => s,
            JNode::Null => "",
            JNode::Bool(true) => "True",
            JNode::Bool(false) => "False",
            JNode::Int(i) => {
                let mut s = BString::new_in(self.arena);
                let _ = write!(s, "{i}");
                s.into_bump_str()
            }
            JNode::Float(f) => {
                let mut s = BString::new_in(self.arena);
                write_double(*f, &mut s);
                s.into_bump_str()
            }
            other => {
                let mut s = BString::new_in(self.arena);
                other.write_json(&mut s, false, false);
                s.into_bump_str()
            }
        }
    }

    /// An attribute's value: scalars as text, `null` empty, containers as compact JSON.
    fn attr_text(&self, v: &'a JNode<'a>) -> &'a str {
        self.scalar_text(v)
    }

    /// The XML name for member `name`: `p:local` when `name` is `p{sep}local` and `p` is
    /// a declared prefix, else `name` encoded as a local name.
    fn qualified(&self, name: &str) -> &'a str {
        if let Some((p, local)) = name.split_once(self.o.separator) {
            let declared = p == "xml" || self.scope.contains(&p);
            if declared && !p.is_empty() && !local.is_empty() {
                let mut s = BString::from_str_in(encode_name(self.arena, p), self.arena);
                s.push(':');
                s.push_str(encode_name(self.arena, local));
                return s.into_bump_str();
            }
        }
        encode_name(self.arena, name)
    }
}

/// `XmlConvert.EncodeLocalName`: characters that cannot stand in a (non-qualified) XML
/// name become `_xHHHH_` (`_xHHHHHHHH_` beyond the BMP); an `_` that would read as such
/// an escape is escaped itself. An empty name becomes `_` (guess: .NET refuses it).
pub(super) fn encode_name<'a>(arena: &'a Bump, name: &str) -> &'a str {
    if name.is_empty() {
        return "_";
    }
    let needs = name.char_indices().any(|(i, c)| {
        !(if i == 0 {
            is_name_start(c)
        } else {
            is_name_char(c)
        }) || looks_escaped(&name[i..])
    });
    if !needs {
        return arena.alloc_str(name);
    }
    let mut out = BString::with_capacity_in(name.len() + 8, arena);
    for (i, c) in name.char_indices() {
        let ok = if i == 0 {
            is_name_start(c)
        } else {
            is_name_char(c)
        };
        if ok && !looks_escaped(&name[i..]) {
            out.push(c);
        } else if (c as u32) > 0xFFFF {
            let _ = write!(out, "_x{:08X}_", c as u32);
        } else {
            let _ = write!(out, "_x{:04X}_", c as u32);
        }
    }
    out.into_bump_str()
}

/// `_xHHHH_` at the start of `s`.
fn looks_escaped(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 7
        && b[0] == b'_'
        && (b[1] == b'x' || b[1] == b'X')
        && b[2..6].iter().all(u8::is_ascii_hexdigit)
        && b[6] == b'_'
}

/// XML 1.0 NameStartChar, without `:` (names here are local names).
fn is_name_start(c: char) -> bool {
    matches!(c,
        'A'..='Z' | '_' | 'a'..='z'
        | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}'
        | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}'
        | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

fn is_name_char(c: char) -> bool {
    is_name_start(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// XML-escapes `s` into `out` (attribute values also escape `"` and whitespace controls,
/// as .NET's writer does); a character XML 1.0 cannot hold is an error.
fn escape(out: &mut BString<'_>, s: &str, attribute: bool) -> Result<(), String> {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\t' if attribute => out.push_str("&#x9;"),
            '\n' if attribute => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                return Err(format!(
                    "'{}', hexadecimal value 0x{:02X}, is an invalid character.",
                    c.escape_unicode(),
                    c as u32
                ));
            }
            c => out.push(c),
        }
    }
    Ok(())
}

/// A string Newtonsoft reads as a `DateTime`, written as .NET writes it into XML
/// (`XmlConvert.ToString(dt, RoundtripKind)`); `None` for any other string.
fn normalize_date<'a>(arena: &'a Bump, s: &str) -> Option<&'a str> {
    let b = s.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
        || year < 1
    {
        return None;
    }
    let mut i = 19;
    let mut fraction = "";
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        let mut end = start;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
        if end == start || end - start > 7 {
            return None;
        }
        fraction = s[start..end].trim_end_matches('0');
        i = end;
    }
    // Zone: none, `Z`, or ±hh, ±hhmm, ±hh:mm.
    enum Zone {
        None,
        Utc,
        Offset(i64),
    }
    let zone = match b.get(i) {
        None => Zone::None,
        Some(b'Z') if i + 1 == b.len() => Zone::Utc,
        Some(&sign @ (b'+' | b'-')) => {
            let rest = &s[i + 1..];
            if !rest.bytes().all(|c| c.is_ascii_digit() || c == b':') {
                return None;
            }
            let (hh, mm) = match rest.len() {
                2 => (rest, "00"),
                4 => (&rest[..2], &rest[2..]),
                5 if rest.as_bytes()[2] == b':' => (&rest[..2], &rest[3..]),
                _ => return None,
            };
            if !hh.bytes().chain(mm.bytes()).all(|c| c.is_ascii_digit()) {
                return None;
            }
            let (hh, mm): (i64, i64) = (hh.parse().ok()?, mm.parse().ok()?);
            if hh > 14 || mm > 59 {
                return None;
            }
            let minutes = hh * 60 + mm;
            Zone::Offset(if sign == b'-' { -minutes } else { minutes })
        }
        _ => return None,
    };
    let mut out = BString::with_capacity_in(33, arena);
    let write_frac = |out: &mut BString<'_>| {
        if !fraction.is_empty() {
            out.push('.');
            out.push_str(fraction);
        }
    };
    match zone {
        Zone::None | Zone::Utc => {
            out.push_str(&s[..19]);
            write_frac(&mut out);
            if matches!(zone, Zone::Utc) {
                out.push('Z');
            }
        }
        Zone::Offset(minutes) => {
            // Local time → UTC: subtract the offset.
            let total = tollgate_core::access::days_from_civil(year, month, day) * 1440
                + hour * 60
                + minute
                - minutes;
            let days = total.div_euclid(1440);
            let rem = total.rem_euclid(1440);
            let (y, m, d) = tollgate_core::access::civil_from_days(days);
            if !(1..=9999).contains(&y) {
                return None;
            }
            let _ = write!(
                out,
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{second:02}",
                rem / 60,
                rem % 60
            );
            write_frac(&mut out);
            out.push_str("+00:00");
        }
    }
    Some(out.into_bump_str())
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(json: &str, o: &Options<'_>) -> Result<String, String> {
        let arena = Bump::new();
        let body = arena.alloc_slice_copy(json.as_bytes());
        convert(&arena, body, o).map(str::to_string)
    }

    fn plain() -> Options<'static> {
        Options {
            parse_date: true,
            separator: "_",
            namespace_prefix: None,
            attribute_block: None,
        }
    }

    #[test]
    fn document_root_and_values() {
        assert_eq!(
            conv(r#"{"a":1,"b":true,"c":null,"d":[],"e":{"f":"x<y"},"g":1.50}"#, &plain()).unwrap(),
            "<Document><a>1</a><b>True</b><c xsi:nil=\"true\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" /><d /><e><f>x&lt;y</f></e><g>1.5</g></Document>"
        );
        assert_eq!(
            conv(r#"{"r":{"a":[1,2]}}"#, &plain()).unwrap(),
            "<r><a>1</a><a>2</a></r>"
        );
        assert_eq!(conv(r#"{"r":{}}"#, &plain()).unwrap(), "<r />");
        assert_eq!(
            conv("[1,{\"a\":2}]", &plain()).unwrap(),
            "<Document><Array>1</Array><Array><a>2</a></Array></Document>"
        );
        assert_eq!(conv("\"s\"", &plain()).unwrap(), "<Document>s</Document>");
        assert!(conv("{\"a\":", &plain()).is_err());
        assert!(conv("{\"a\":\"\\u0001\"}", &plain()).is_err());
    }

    #[test]
    fn names_are_encoded() {
        let arena = Bump::new();
        assert_eq!(encode_name(&arena, "first name"), "first_x0020_name");
        assert_eq!(encode_name(&arena, "1st"), "_x0031_st");
        assert_eq!(encode_name(&arena, "a:b"), "a_x003A_b");
        assert_eq!(encode_name(&arena, "_x0020_"), "_x005F_x0020_");
        assert_eq!(encode_name(&arena, "ok-name.1"), "ok-name.1");
    }

    #[test]
    fn mutated_inputs_never_panic() {
        let seeds = [
            r##"{"a":{"#attrs":{"x":1},"xmlns:p":"u","p:b":[1,[2,{}],null],"c":"2024-01-02T03:04:05.5+01:30"}}"##,
            r#"[{"first name":true,"_x0041_":1.5e300,"d":"2024-02-29T23:59:59Z"}]"#,
        ];
        let o = Options {
            parse_date: true,
            separator: ":",
            namespace_prefix: Some("xmlns"),
            attribute_block: Some("#attrs"),
        };
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for seed in seeds {
            for _ in 0..2000 {
                let mut b = seed.as_bytes().to_vec();
                for _ in 0..3 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let i = (x as usize) % b.len();
                    let chars = b"{}[]\":,.-+0129TZ: \xc3\xa9\x01";
                    b[i] = chars[(x >> 32) as usize % chars.len()];
                }
                let arena = Bump::new();
                let body = arena.alloc_slice_copy(&b);
                let _ = convert(&arena, body, &o);
            }
        }
    }

    #[test]
    fn dates() {
        let arena = Bump::new();
        let n = |s: &str| normalize_date(&arena, s).map(str::to_string);
        assert_eq!(
            n("2024-01-02T03:04:05.000Z").as_deref(),
            Some("2024-01-02T03:04:05Z")
        );
        assert_eq!(
            n("2024-01-02T03:04:05.120").as_deref(),
            Some("2024-01-02T03:04:05.12")
        );
        assert_eq!(
            n("2024-01-02T01:04:05+02:00").as_deref(),
            Some("2024-01-01T23:04:05+00:00")
        );
        assert_eq!(
            n("2024-02-28T23:30:00-0100").as_deref(),
            Some("2024-02-29T00:30:00+00:00")
        );
        assert_eq!(n("2024-01-02"), None);
        assert_eq!(n("2024-13-02T03:04:05"), None);
        assert_eq!(n("not a date at all here"), None);
        assert_eq!(n("2024-01-02T03:04:05+1\u{e9}2"), None);
    }
}
