//! The element tree a policy document parses into: elements, attributes and text, each
//! with the file position it came from.
//!
//! Not for meaning: which elements are policies and what they may contain is `catalog`'s
//! job, and checking it is `validate`'s.

/// Where something starts in its file: 1-based line, 1-based column counted in characters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Loc {
    pub line: u32,
    pub col: u32,
}

impl Loc {
    pub const fn new(line: u32, col: u32) -> Self {
        Loc { line, col }
    }
}

/// Where a policy document's text comes from: its file and where the text starts in it.
///
/// Policies may sit inline in YAML (`policy: |` block scalars), so the text's line 1,
/// column 1 is `line`:`col` of the file; each later line is shifted right by `indent`
/// columns (the block scalar's indentation the YAML loader removed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    pub line: u32,
    pub col: u32,
    pub indent: u32,
}

impl Origin {
    /// A whole file: the text starts at 1:1.
    pub fn file(name: impl Into<String>) -> Self {
        Origin {
            file: name.into(),
            line: 1,
            col: 1,
            indent: 0,
        }
    }

    /// Text embedded in `name` starting at `line`:`col`, later lines indented by `indent`.
    pub fn inline(name: impl Into<String>, line: u32, col: u32, indent: u32) -> Self {
        Origin {
            file: name.into(),
            line: line.max(1),
            col: col.max(1),
            indent,
        }
    }
}

/// An attribute, its value unescaped (entities resolved, XML attribute-value normalisation
/// applied), positioned at its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attr {
    pub name: String,
    pub value: String,
    pub loc: Loc,
    /// Set by named-value substitution when a secret value went into `value`: printers
    /// show `***` instead.
    pub secret: bool,
}

/// Character data: text (entities resolved, line ends normalised to `\n`) or a CDATA
/// section (kept apart so printing can give it back as CDATA).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text {
    pub text: String,
    pub loc: Loc,
    pub is_cdata: bool,
    /// As for [`Attr::secret`].
    pub secret: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Text(Text),
}

/// An element, positioned at its `<`. Names keep their namespace prefix (`xsl:template`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<Attr>,
    pub children: Vec<Node>,
    pub loc: Loc,
}

impl Element {
    /// The attribute named `name`, if present.
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }

    /// The value of the attribute named `name`, if present.
    pub fn attr_value(&self, name: &str) -> Option<&str> {
        self.attr(name).map(|a| a.value.as_str())
    }

    /// The child elements, in order.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The concatenated text and CDATA directly inside this element.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for node in &self.children {
            if let Node::Text(t) = node {
                out.push_str(&t.text);
            }
        }
        out
    }

    /// Whether any text node directly inside carries a secret.
    pub fn has_secret_text(&self) -> bool {
        self.children
            .iter()
            .any(|n| matches!(n, Node::Text(t) if t.secret))
    }
}
